/// Raw GGUF v3 bytes written field by field, with no checks, so a case can hold exactly the corrupt value it
/// is about (the GGUF writer in SwiftTuneCheckpoint refuses to write such files).
public struct GGUFBytes {
    public private(set) var bytes: [UInt8] = []

    /// The magic and version, then the two counts as given.
    public init(version: UInt32 = 3, tensorCount: UInt64, metadataCount: UInt64) {
        bytes += Array("GGUF".utf8)
        u32(version)
        u64(tensorCount)
        u64(metadataCount)
    }

    public mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    public mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }

    /// A gguf_string: u64 length, then the bytes (`length` overrides the true length).
    public mutating func string(_ text: String, length: UInt64? = nil) {
        u64(length ?? UInt64(text.utf8.count))
        bytes += Array(text.utf8)
    }

    /// A metadata entry `key` of type u32 (4).
    public mutating func metadataU32(_ key: String, _ value: UInt32) {
        string(key)
        u32(4)
        u32(value)
    }

    /// A metadata entry `key` of type string (8).
    public mutating func metadataString(_ key: String, _ value: String, length: UInt64? = nil) {
        string(key)
        u32(8)
        string(value, length: length)
    }

    /// A metadata array header: type 9, then the element type and the count (elements follow separately).
    public mutating func metadataArray(_ key: String, elementType: UInt32, count: UInt64) {
        string(key)
        u32(9)
        u32(elementType)
        u64(count)
    }

    /// A tensor info: name, n_dims, ne, ggml type, offset.
    public mutating func tensorInfo(_ name: String, dimensions: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(dimensions.count))
        for dimension in dimensions { u64(dimension) }
        u32(type)
        u64(offset)
    }

    /// Zero bytes up to a multiple of `alignment` (the data section's start).
    public mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    public mutating func append(zeros count: Int) { bytes += [UInt8](repeating: 0, count: count) }
}
