import SwiftTuneQuantization
import Foundation
import SwiftTuneTensor

/// A GGUF v2/v3 file (llama.cpp's model format), memory-mapped and validated on open
/// (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md; FORMATS.md §1).
///
/// Opening parses the header, every metadata value and every tensor info with ggml's checks (see `GGUFHeader`);
/// tensor bytes are paged in when `withBytes`, `floats` or `tensor` touch them. Names are GGUF's
/// (`blk.0.attn_q.weight`); `GGUFWeights` maps them to Hugging Face keys.
///
/// ```swift
/// let file = try GGUFFile(url: url)
/// let heads = try file.int("llama.attention.head_count")                       // any integer type
/// let wq = try file.tensor("blk.0.attn_q.weight", on: backend)                  // f32 (576, 576), GGUF row order
/// ```
public final class GGUFFile: Sendable {
    /// The file that was opened.
    public let url: URL
    /// The format version (2 or 3).
    public let version: Int
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Every metadata value by key.
    public let metadata: [String: GGUFValue]
    /// Every tensor, in file (info) order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment`, or 32.
    public let alignment: Int
    /// Where the data section starts in the file.
    public let dataOffset: Int

    private let mapping: MappedFile
    private let index: [String: Int]

    /// Maps and validates the file at `url`.
    public convenience init(url: URL) throws(CheckpointError) {
        try self.init(mapping: try MappedFile(path: url.path), url: url)
    }

    /// Validates a copy of `bytes` as the file at `url` (nothing is read from disk).
    public convenience init(contents bytes: UnsafeRawBufferPointer, url: URL) throws(CheckpointError) {
        try self.init(mapping: MappedFile(copying: bytes, path: url.path), url: url)
    }

    private init(mapping: MappedFile, url: URL) throws(CheckpointError) {
        self.url = url
        self.mapping = mapping
        let header = try GGUFHeader(file: mapping.bytes, path: url.path)
        version = Int(header.version)
        metadataKeys = header.metadataKeys
        metadata = header.metadata
        tensors = header.tensors
        alignment = header.alignment
        dataOffset = header.dataOffset
        index = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($1.name, $0) })
    }

    /// The file's path, for messages.
    public var path: String { url.path }

    /// Tensor names in file order.
    public var names: [String] { tensors.map(\.name) }

    /// `general.architecture`, e.g. `llama` or `qwen2`.
    public var architecture: String? { metadata["general.architecture"]?.stringValue }

    // MARK: Tensors

    /// Whether the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// Type, dimensions and byte range of tensor `name`; throws `missingTensor` if absent.
    public func info(_ name: String) throws(CheckpointError) -> GGUFTensorInfo {
        guard let position = index[name] else {
            throw .missingTensor(key: name, path: path, searched: [url.lastPathComponent])
        }
        return tensors[position]
    }

    /// Calls `body` with the raw bytes of tensor `name` (quant blocks as stored), straight from the mapping.
    /// The buffer is valid only inside `body` and may be unaligned.
    public func withBytes<Result>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        let range = try info(name).fileRange
        return try body(UnsafeRawBufferPointer(rebasing: mapping.bytes[range]))
    }

    /// The values of tensor `name` dequantized to f32, row-major in GGUF's order (`rowCount` rows of `rowLength`).
    ///
    /// - Parameter rows: a range of rows to read (all by default), e.g. the first rows for a quick check.
    /// - Throws: `unsupportedGGMLType` for a type outside `GGMLType.dequantizable`.
    public func floats(_ name: String, rows: Range<Int>? = nil) throws(CheckpointError) -> [Float] {
        let info = try info(name)
        guard info.type.isDequantizable else {
            throw .unsupportedGGMLType(path: path, key: name, type: info.type.name,
                                       supported: GGMLType.dequantizable.map(\.name))
        }
        let wanted = rows ?? 0..<info.rowCount
        guard wanted.lowerBound >= 0, wanted.upperBound <= info.rowCount else {
            throw .invalidArgument(operation: "GGUFFile.floats(\"\(name)\")",
                                   reason: "rows \(wanted) are outside the tensor's \(info.rowCount) rows")
        }
        // An empty tensor (ne[0] = 0) may still have many rows: nothing to decode, and no loop over them.
        guard wanted.count > 0, info.rowLength > 0 else { return [] }
        let start = info.fileRange.lowerBound + wanted.lowerBound * info.rowByteCount
        let base = mapping.bytes.baseAddress.map { UnsafeRawPointer($0) + start }
        return [Float](unsafeUninitializedCapacity: wanted.count * info.rowLength) { buffer, count in
            if let base, let destination = buffer.baseAddress {
                GGMLDequantizer.dequantize(info.type, source: base, rows: wanted.count, rowLength: info.rowLength,
                                           into: destination)
            }
            count = wanted.count * info.rowLength
        }
    }

    /// Uploads tensor `name` to `backend`, dequantized, with `shape` in row-major order (ggml's `ne` reversed).
    ///
    /// - Parameter dtype: f32 (exact), or bf16/f16 through `backend.cast` from the f32 values (round to nearest even).
    public func tensor(_ name: String, on backend: any Backend, as dtype: DType = .f32) throws -> Tensor {
        guard dtype.isFloatingPoint else {
            throw CheckpointError.unsupportedConversion(path: path, key: name, from: try info(name).type.name,
                                                        to: dtype.rawValue)
        }
        let values = try floats(name)
        let loaded = try backend.tensor(values, shape: try info(name).shape)
        return dtype == .f32 ? loaded : try backend.converted(loaded, to: dtype)
    }

    // MARK: Metadata

    /// The value of metadata `key`, if present.
    public subscript(key: String) -> GGUFValue? { metadata[key] }

    /// A string value; nil when absent, `wrongType` when present with another type.
    public func string(_ key: String) throws(CheckpointError) -> String? {
        try typed(key, "a string") { $0.stringValue }
    }

    /// An integer of any GGUF integer type (real files use u32 where the spec says u64).
    public func int(_ key: String) throws(CheckpointError) -> Int? {
        try typed(key, "an integer") { $0.intValue }
    }

    /// A float (f32 or f64) or integer value as a Double.
    public func double(_ key: String) throws(CheckpointError) -> Double? {
        try typed(key, "a number") { $0.doubleValue }
    }

    public func bool(_ key: String) throws(CheckpointError) -> Bool? {
        try typed(key, "a bool") { $0.boolValue }
    }

    /// An array of strings.
    public func stringArray(_ key: String) throws(CheckpointError) -> [String]? {
        try typed(key, "an array of strings") { value in
            guard case let .array(.string, values) = value else { return nil }
            return values.map { $0.stringValue ?? "" }
        }
    }

    /// An array of integers (any integer element type).
    public func intArray(_ key: String) throws(CheckpointError) -> [Int]? {
        try typed(key, "an array of integers") { value in
            guard let values = value.arrayValues else { return nil }
            let ints = values.compactMap(\.intValue)
            return ints.count == values.count ? ints : nil
        }
    }

    /// An array of numbers as f32 (f64 elements are rounded).
    public func floatArray(_ key: String) throws(CheckpointError) -> [Float]? {
        try typed(key, "an array of numbers") { value in
            guard let values = value.arrayValues else { return nil }
            let floats = values.compactMap { $0.doubleValue.map(Float.init) }
            return floats.count == values.count ? floats : nil
        }
    }

    private func typed<T>(_ key: String, _ expected: String,
                          _ convert: (GGUFValue) -> T?) throws(CheckpointError) -> T? {
        guard let value = metadata[key] else { return nil }
        guard let converted = convert(value) else {
            throw .wrongType(path: path, key: key, expected: expected, got: value.typeName)
        }
        return converted
    }
}
