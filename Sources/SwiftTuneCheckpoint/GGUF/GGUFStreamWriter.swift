import SwiftTuneQuantization
import Foundation

/// One tensor of a GGUF file to be written: its name, ggml `ne` (innermost first) and type. The bytes come later.
public struct GGUFTensorDescriptor: Sendable, Equatable {
    public var name: String
    public var dimensions: [Int]
    public var type: GGMLType

    public init(name: String, dimensions: [Int], type: GGMLType) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
    }

    /// The tensor's data size: `ne[0] / blockSize · typeSize · ne[1] · …` (nil when ne[0] is not whole blocks).
    public var byteCount: Int? {
        type.rowByteCount(dimensions.first ?? 1).map { $0 * dimensions.dropFirst().reduce(1, *) }
    }
}

/// Writes GGUF v3 files whose tensors are produced one at a time, so a multi-gigabyte model never has to be in
/// memory at once: the header (metadata, then every tensor info with its offset) is computed from the descriptors,
/// then each tensor's bytes are asked for in info order and padded to the alignment, as ggml's reader requires
/// (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md; FORMATS.md §1).
///
/// The file is written atomically: to a temporary name in the same folder, flushed, then renamed. On any error
/// (a tensor of the wrong size, a full disk) the temporary file is removed and no file with the final name appears.
public enum GGUFStreamWriter {
    /// Writes `tensors` to `url`; `data(i)` returns the bytes of `tensors[i]` (exactly its `byteCount`).
    ///
    /// - Parameter alignment: the data alignment; written as `general.alignment` unless it is the default 32.
    public static func write(to url: URL, metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorDescriptor],
                             alignment: Int = 32, data: (Int) throws -> [UInt8]) throws {
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw CheckpointError.invalidArgument(operation: "GGUFStreamWriter.write",
                                                  reason: "alignment \(alignment) is not a power of two")
        }
        var names = Set<String>()
        for tensor in tensors {
            guard names.insert(tensor.name).inserted else { throw CheckpointError.duplicateKey(path: url.path, key: tensor.name) }
            guard tensor.name.utf8.count < 64 else {
                throw CheckpointError.invalidArgument(operation: "GGUFStreamWriter.write",
                                                      reason: "tensor name \"\(tensor.name)\" is 64 bytes or longer (GGML_MAX_NAME)")
            }
            guard tensor.byteCount != nil, (1...4).contains(tensor.dimensions.count) else {
                throw CheckpointError.invalidArgument(
                    operation: "GGUFStreamWriter.write(\"\(tensor.name)\")",
                    reason: "ne \(tensor.dimensions) is not 1–4 dimensions of whole \(tensor.type) blocks")
            }
        }
        let header = header(metadata: metadata, tensors: tensors, alignment: alignment)
        try AtomicFile.write(to: url) { sink in
            try sink.write(header)
            for (index, tensor) in tensors.enumerated() {
                let bytes = try data(index)
                let expected = tensor.byteCount ?? 0
                guard bytes.count == expected else {
                    throw CheckpointError.invalidArgument(
                        operation: "GGUFStreamWriter.write(\"\(tensor.name)\")",
                        reason: "got \(bytes.count) bytes for a \(tensor.type) tensor with ne \(tensor.dimensions), expected \(expected)")
                }
                try sink.write(bytes)
                let padding = padded(bytes.count, alignment) - bytes.count
                if padding > 0 { try sink.write([UInt8](repeating: 0, count: padding)) }
            }
        }
    }

    /// The file size `write` produces for these tensors and metadata.
    public static func fileSize(metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorDescriptor],
                                alignment: Int = 32) -> Int {
        header(metadata: metadata, tensors: tensors, alignment: alignment).count
            + tensors.reduce(0) { $0 + padded($1.byteCount ?? 0, alignment) }
    }

    /// Magic, version, counts, metadata, tensor infos (offsets of the padded data in order), padding to the alignment.
    static func header(metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorDescriptor],
                       alignment: Int) -> [UInt8] {
        var out = [UInt8]()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        func append(string: String) {
            append(UInt64(string.utf8.count))
            out.append(contentsOf: string.utf8)
        }
        func append(value: GGUFValue, tagged: Bool) {
            if tagged { append(value.type.rawValue) }
            switch value {
            case let .uint8(v): append(v)
            case let .int8(v): append(v)
            case let .uint16(v): append(v)
            case let .int16(v): append(v)
            case let .uint32(v): append(v)
            case let .int32(v): append(v)
            case let .float32(v): append(v.bitPattern)
            case let .bool(v): append(UInt8(v ? 1 : 0))
            case let .string(v): append(string: v)
            case let .array(elementType, values):
                append(elementType.rawValue)
                append(UInt64(values.count))
                for element in values { append(value: element, tagged: false) }
            case let .uint64(v): append(v)
            case let .int64(v): append(v)
            case let .float64(v): append(v.bitPattern)
            }
        }
        var entries = metadata
        if alignment != 32, !entries.contains(where: { $0.key == "general.alignment" }) {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        out.append(contentsOf: "GGUF".utf8)
        append(UInt32(3))
        append(UInt64(tensors.count))
        append(UInt64(entries.count))
        for (key, value) in entries {
            append(string: key)
            append(value: value, tagged: true)
        }
        var offset = 0
        for tensor in tensors {
            append(string: tensor.name)
            append(UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { append(UInt64(dimension)) }
            append(tensor.type.rawValue)
            append(UInt64(offset))
            offset += padded(tensor.byteCount ?? 0, alignment)
        }
        out.append(contentsOf: repeatElement(0, count: padded(out.count, alignment) - out.count))
        return out
    }

    static func padded(_ count: Int, _ alignment: Int) -> Int { (count + alignment - 1) / alignment * alignment }
}
