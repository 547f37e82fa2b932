import SwiftTuneQuantization
import Foundation

/// Writes GGUF v3 files: metadata in the order added, tensor infos, then the data of each tensor padded to the
/// alignment, in info order (what `GGUFFile` and ggml's reader require).
///
/// Tensors are given as raw bytes of a ggml type (already quantized blocks, or little-endian F32/F16/BF16), or as
/// f32 values with a row-major shape. Used to export models and, in tests, to build GGUF models from HF ones.
///
/// ```swift
/// var writer = GGUFWriter()
/// writer.add("general.architecture", .string("llama"))
/// writer.addTensor("token_embd.weight", shape: [vocab, hidden], values: embedding)   // ne = [hidden, vocab]
/// try writer.write(to: url)
/// ```
public struct GGUFWriter: Sendable {
    /// One tensor to write.
    public struct Tensor: Sendable {
        public var name: String
        /// ggml's `ne`, innermost first.
        public var dimensions: [Int]
        public var type: GGMLType
        public var data: [UInt8]
    }

    /// The data alignment; written as `general.alignment` when it is not the default 32.
    public var alignment: Int
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    public private(set) var tensors: [Tensor] = []

    public init(alignment: Int = 32) {
        self.alignment = alignment
    }

    /// Adds (or replaces) metadata `key`.
    public mutating func add(_ key: String, _ value: GGUFValue) {
        if let index = metadata.firstIndex(where: { $0.key == key }) {
            metadata[index].value = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Adds a tensor of `type` whose bytes are `data` (rows of whole blocks along `dimensions[0]`).
    public mutating func addTensor(_ name: String, dimensions: [Int], type: GGMLType, data: [UInt8]) throws(CheckpointError) {
        let rows = dimensions.dropFirst().reduce(1, *)
        guard let rowBytes = type.rowByteCount(dimensions.first ?? 1), rowBytes * rows == data.count else {
            throw .invalidArgument(operation: "GGUFWriter.addTensor(\"\(name)\")",
                                   reason: "\(data.count) bytes do not hold a \(type) tensor with ne \(dimensions)")
        }
        guard !tensors.contains(where: { $0.name == name }) else {
            throw .duplicateKey(path: "GGUFWriter", key: name)
        }
        tensors.append(Tensor(name: name, dimensions: dimensions, type: type, data: data))
    }

    /// Adds an F32 tensor with a row-major (PyTorch) `shape`; its `ne` is the shape reversed.
    public mutating func addTensor(_ name: String, shape: [Int], values: [Float]) throws(CheckpointError) {
        var data = [UInt8]()
        data.reserveCapacity(values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        try addTensor(name, dimensions: shape.isEmpty ? [1] : shape.reversed(), type: .f32, data: data)
    }

    /// The file's bytes.
    public func bytes() -> [UInt8] {
        let descriptors = tensors.map { GGUFTensorDescriptor(name: $0.name, dimensions: $0.dimensions, type: $0.type) }
        var out = GGUFStreamWriter.header(metadata: metadata, tensors: descriptors, alignment: alignment)
        for tensor in tensors {
            out.append(contentsOf: tensor.data)
            out.append(contentsOf: repeatElement(0, count: padded(tensor.data.count) - tensor.data.count))
        }
        return out
    }

    /// Writes the file atomically (a temporary file renamed into place).
    public func write(to url: URL) throws {
        let bytes = bytes()
        try AtomicFile.write(to: url) { try $0.write(bytes) }
    }

    private func padded(_ count: Int) -> Int { (count + alignment - 1) / alignment * alignment }
}
