import SwiftTuneQuantization

/// The parsed and validated header of a GGUF v2/v3 file: metadata, tensor infos and the data section's start
/// (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md).
///
/// The checks follow ggml's reader (`gguf_init_from_file_impl` in src/gguf.cpp): magic, version (v1 and
/// big-endian files refused), unique keys and tensor names, known value and tensor types, `general.alignment` a
/// power of two, at most 4 dimensions, `ne[0]` a whole number of blocks, and offsets that place the tensors in info
/// order with no gaps, each padded to the alignment. Every length is checked against the bytes left and against a
/// cap (`maximumTensorCount`, `maximumMetadataCount`, `maximumStringLength`, `maximumArrayLength`,
/// `maximumMetadataElements`) before anything is allocated, so a corrupt or hostile count cannot make the reader
/// allocate gigabytes (a u8 array element costs far more in memory than its byte in the file). Dimensions must
/// multiply without overflow in 63 bits, zeros aside, so no later product (rows, elements, bytes) can overflow.
/// Unlike ggml, the padding after the last tensor may be missing.
struct GGUFHeader {
    static let defaultAlignment = 32
    /// ggml's `GGML_MAX_NAME` (including the NUL), so names have at most 63 bytes.
    static let maximumNameLength = 64
    /// ggml's `GGML_MAX_DIMS`.
    static let maximumDimensions = 4
    /// Arrays of arrays are allowed; this bounds the recursion.
    static let maximumNesting = 8
    /// Tensors in one file (the largest real models have a few thousand; MoE files tens of thousands).
    static let maximumTensorCount = 1 << 20
    /// Metadata entries in one file (real files have a few dozen).
    static let maximumMetadataCount = 1 << 20
    /// Bytes of one string (key or value; chat templates are the longest, some 10 KB).
    static let maximumStringLength = 1 << 24
    /// Elements of one array (vocabularies have up to ~260k tokens).
    static let maximumArrayLength = 1 << 24
    /// Array elements in all the metadata together.
    static let maximumMetadataElements = 1 << 25

    var version: UInt32 = 0
    /// Metadata keys in file order.
    var metadataKeys: [String] = []
    var metadata: [String: GGUFValue] = [:]
    var tensors: [GGUFTensorInfo] = []
    var alignment = defaultAlignment
    /// Start of the data section in the file.
    var dataOffset = 0

    init(file bytes: UnsafeRawBufferPointer, path: String) throws(CheckpointError) {
        var cursor = GGUFCursor(bytes: bytes, path: path)
        let magic = try cursor.bytes(4, key: "magic")
        guard magic.elementsEqual("GGUF".utf8) else {
            throw .invalidGGUF(path: path, key: "magic", expected: "\"GGUF\" (47 47 55 46)",
                               got: magic.map { String($0, radix: 16, uppercase: true) }.joined(separator: " "))
        }
        version = try cursor.read(UInt32.self, key: "version")
        if version & 0xFFFF == 0 {
            throw .invalidGGUF(path: path, key: "version", expected: "2 or 3, little-endian",
                               got: "0x\(String(version, radix: 16)), which is a big-endian file")
        }
        guard version == 2 || version == 3 else {
            throw .invalidGGUF(path: path, key: "version", expected: "2 or 3",
                               got: version == 1 ? "1 (GGUF v1 is no longer supported by ggml)" : "\(version)")
        }
        let tensorCount = try cursor.count(key: "tensor_count", minimumItemSize: 24, limit: Self.maximumTensorCount,
                                           what: "tensors")
        let metadataCount = try cursor.count(key: "metadata_kv_count", minimumItemSize: 13, limit: Self.maximumMetadataCount,
                                             what: "metadata entries")

        for index in 0..<metadataCount {
            let key = try cursor.string(key: "metadata[\(index)].key")
            let shown = ShownText.escaped(key)  // the key as messages show it
            guard metadata[key] == nil else {
                throw .invalidGGUF(path: path, key: shown, expected: "unique metadata keys", got: "the key twice")
            }
            let type = try cursor.valueType(key: shown)
            metadata[key] = try cursor.value(type, key: shown, depth: 0)
            metadataKeys.append(key)
        }
        if let value = metadata["general.alignment"] {
            guard case let .uint32(alignment) = value, alignment > 0, alignment & (alignment - 1) == 0 else {
                throw .invalidGGUF(path: path, key: "general.alignment", expected: "a u32 power of two",
                                   got: "\(value.typeName) \(value)")
            }
            self.alignment = Int(alignment)
        }

        var names = Set<String>()
        var infos: [(name: String, dimensions: [Int], type: GGMLType, offset: Int, byteCount: Int)] = []
        for index in 0..<tensorCount {
            let name = try cursor.string(key: "tensor_info[\(index)].name")
            let place = "tensor \"\(ShownText.escaped(name))\""
            guard name.utf8.count < Self.maximumNameLength else {
                throw .invalidGGUF(path: path, key: place,
                                   expected: "a name of at most \(Self.maximumNameLength - 1) bytes", got: "\(name.utf8.count) bytes")
            }
            guard names.insert(name).inserted else {
                throw .invalidGGUF(path: path, key: place, expected: "unique tensor names", got: "the name twice")
            }
            let dimensionCount = try cursor.read(UInt32.self, key: place + ".n_dims")
            guard dimensionCount <= Self.maximumDimensions else {
                throw .invalidGGUF(path: path, key: place + ".n_dims", expected: "at most \(Self.maximumDimensions)",
                                   got: "\(dimensionCount)")
            }
            var dimensions: [Int] = []
            var elements = 1
            var nonzero = 1  // the product without the zeros, so that rows (ne[1]·ne[2]·ne[3]) cannot overflow either
            for axis in 0..<Int(dimensionCount) {
                let size = try cursor.read(UInt64.self, key: place + ".ne[\(axis)]")
                guard let dimension = Int(exactly: size),
                      case let (product, false) = nonzero.multipliedReportingOverflow(by: max(dimension, 1)) else {
                    throw .invalidGGUF(path: path, key: place + ".ne", expected: "sizes whose product fits in 63 bits",
                                       got: "ne[\(axis)] = \(size) after \(dimensions)")
                }
                dimensions.append(dimension)
                nonzero = product
                elements *= dimension
            }
            let rawType = try cursor.read(UInt32.self, key: place + ".type")
            guard let type = GGMLType(rawValue: rawType) else {
                throw .invalidGGUF(path: path, key: place + ".type", expected: "a ggml type id (0–3, 6–30, 34, 35, 39–41)",
                                   got: "\(rawType)")
            }
            let rowLength = dimensions.first ?? 1
            guard rowLength % type.blockSize == 0 else {
                throw .invalidGGUF(path: path, key: place + ".ne[0]",
                                   expected: "a multiple of \(type)'s block size \(type.blockSize)", got: "\(rowLength)")
            }
            guard let rowBytes = type.rowByteCount(rowLength) else {
                throw .invalidGGUF(path: path, key: place + ".ne[0]",
                                   expected: "a row byte size (\(type.typeSize) bytes per \(type.blockSize) values) that fits in 63 bits",
                                   got: "\(rowLength) values")
            }
            let rows = rowLength == 0 ? 0 : elements / rowLength
            guard case let (byteCount, false) = rowBytes.multipliedReportingOverflow(by: rows) else {
                throw .invalidGGUF(path: path, key: place + ".ne", expected: "a byte size that fits in 63 bits", got: "\(dimensions)")
            }
            let offset = try cursor.read(UInt64.self, key: place + ".offset")
            infos.append((name, dimensions, type, Int(clamping: offset), byteCount))
        }

        dataOffset = Self.padded(cursor.position, to: alignment)
        var expected = 0
        for info in infos {
            let place = "tensor \"\(ShownText.escaped(info.name))\".offset"
            guard info.offset % alignment == 0 else {
                throw .invalidGGUF(path: path, key: place, expected: "a multiple of the alignment \(alignment)",
                                   got: "\(info.offset)")
            }
            guard info.offset == expected else {
                throw .invalidGGUF(path: path, key: place,
                                   expected: "\(expected) (tensors stored in info order, each padded to \(alignment) bytes, no gaps or overlaps)",
                                   got: "\(info.offset)")
            }
            let start = dataOffset + info.offset
            guard start <= bytes.count, info.byteCount <= bytes.count - start else {
                throw .truncatedGGUF(path: path, key: "tensor \"\(ShownText.escaped(info.name))\"", offset: start, needed: info.byteCount,
                                     fileSize: bytes.count)
            }
            tensors.append(GGUFTensorInfo(name: info.name, dimensions: info.dimensions, type: info.type, offset: info.offset,
                                          byteCount: info.byteCount, fileRange: start..<start + info.byteCount))
            expected = info.offset + Self.padded(info.byteCount, to: alignment)
        }
    }

    static func padded(_ value: Int, to alignment: Int) -> Int {
        (value + alignment - 1) / alignment * alignment
    }
}

/// Reads little-endian fields from the mapped file, refusing any read past its end.
private struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var position = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - position }

    private mutating func claim(_ count: Int, key: String) throws(CheckpointError) -> Int {
        guard count >= 0, count <= remaining else {
            throw .truncatedGGUF(path: path, key: key, offset: position, needed: count, fileSize: bytes.count)
        }
        defer { position += count }
        return position
    }

    mutating func bytes(_ count: Int, key: String) throws(CheckpointError) -> UnsafeRawBufferPointer {
        let start = try claim(count, key: key)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<start + count])
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, key: String) throws(CheckpointError) -> T {
        let start = try claim(MemoryLayout<T>.size, key: key)
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: T.self))
    }

    /// A u64 count of items each at least `minimumItemSize` bytes long, refused when they could not fit in the file
    /// or when there are more than `limit`.
    mutating func count(key: String, minimumItemSize: Int, limit: Int, what: String) throws(CheckpointError) -> Int {
        let at = position
        let value = try read(UInt64.self, key: key)
        guard value <= UInt64(remaining / minimumItemSize) else {
            let (total, overflow) = value.multipliedReportingOverflow(by: UInt64(minimumItemSize))
            throw .truncatedGGUF(path: path, key: key + " (\(value) \(what) of at least \(minimumItemSize) bytes)",
                                 offset: at + 8, needed: overflow ? Int.max : Int(clamping: total), fileSize: bytes.count)
        }
        guard value <= UInt64(limit) else {
            throw .ggufLimitExceeded(path: path, key: key, what: what, value: value, limit: limit)
        }
        return Int(value)
    }

    /// Array elements read so far in the whole header, against `GGUFHeader.maximumMetadataElements`.
    var metadataElements = 0

    /// A gguf_string: u64 length, then that many UTF-8 bytes (invalid sequences become U+FFFD).
    mutating func string(key: String) throws(CheckpointError) -> String {
        let at = position
        let length = try read(UInt64.self, key: key)
        guard length <= UInt64(remaining) else {
            throw .truncatedGGUF(path: path, key: key + " (string length \(length))", offset: at + 8,
                                 needed: Int(clamping: length), fileSize: bytes.count)
        }
        guard length <= UInt64(GGUFHeader.maximumStringLength) else {
            throw .ggufLimitExceeded(path: path, key: key, what: "bytes of string", value: length,
                                     limit: GGUFHeader.maximumStringLength)
        }
        return String(decoding: try self.bytes(Int(length), key: key), as: UTF8.self)
    }

    mutating func valueType(key: String) throws(CheckpointError) -> GGUFValueType {
        let raw = try read(UInt32.self, key: key + " (type)")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw .invalidGGUF(path: path, key: key, expected: "a value type 0–12", got: "\(raw)")
        }
        return type
    }

    mutating func value(_ type: GGUFValueType, key: String, depth: Int) throws(CheckpointError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, key: key))
        case .int8: return .int8(try read(Int8.self, key: key))
        case .uint16: return .uint16(try read(UInt16.self, key: key))
        case .int16: return .int16(try read(Int16.self, key: key))
        case .uint32: return .uint32(try read(UInt32.self, key: key))
        case .int32: return .int32(try read(Int32.self, key: key))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, key: key)))
        case .uint64: return .uint64(try read(UInt64.self, key: key))
        case .int64: return .int64(try read(Int64.self, key: key))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, key: key)))
        case .bool:
            let byte = try read(UInt8.self, key: key)
            guard byte <= 1 else { throw .invalidGGUF(path: path, key: key, expected: "a bool (0 or 1)", got: "\(byte)") }
            return .bool(byte == 1)
        case .string:
            return .string(try string(key: key))
        case .array:
            guard depth < GGUFHeader.maximumNesting else {
                throw .invalidGGUF(path: path, key: key, expected: "arrays nested at most \(GGUFHeader.maximumNesting) deep",
                                   got: "deeper nesting")
            }
            let elementType = try valueType(key: key + " (element type)")
            let count = try self.count(key: key + " (array length)", minimumItemSize: elementType.minimumSize,
                                       limit: GGUFHeader.maximumArrayLength, what: "array elements")
            guard count <= GGUFHeader.maximumMetadataElements - metadataElements else {
                throw .ggufLimitExceeded(path: path, key: key, what: "array elements in the metadata so far",
                                         value: UInt64(metadataElements + count), limit: GGUFHeader.maximumMetadataElements)
            }
            metadataElements += count
            var values: [GGUFValue] = []
            values.reserveCapacity(count)
            for index in 0..<count {
                do {
                    values.append(try value(elementType, key: key, depth: depth + 1))
                } catch {
                    throw Self.locate(error, key: key, index: index)
                }
            }
            return .array(elementType: elementType, values: values)
        }
    }

    /// Names the array element an error happened in (keys are built only on failure: arrays hold 150k tokens).
    private static func locate(_ error: CheckpointError, key: String, index: Int) -> CheckpointError {
        switch error {
        case let .truncatedGGUF(path, inner, offset, needed, fileSize) where inner.hasPrefix(key):
            return .truncatedGGUF(path: path, key: "\(key)[\(index)]" + inner.dropFirst(key.count), offset: offset,
                                  needed: needed, fileSize: fileSize)
        case let .invalidGGUF(path, inner, expected, got) where inner.hasPrefix(key):
            return .invalidGGUF(path: path, key: "\(key)[\(index)]" + inner.dropFirst(key.count), expected: expected, got: got)
        default:
            return error
        }
    }
}
