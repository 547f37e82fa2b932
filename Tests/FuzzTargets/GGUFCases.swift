/// Hand-written GGUF files for the integer-overflow patterns of llama.cpp's GGUF CVEs (CVE-2026-27940: size
/// arithmetic in the header; CVE-2026-33298: the tensor-size product) and their neighbours: counts and dimensions
/// whose products overflow 64 bits, lengths past the end of the file, offsets past the end, alignment 0. Each one
/// must be refused with the error its `expected` text is part of.
public struct GGUFCases: Sendable {
    public let name: String
    public let bytes: [UInt8]
    /// A piece of the error message the file must be refused with.
    public let expected: String

    /// One f32 tensor `w` of `dimensions` (type 0) at `offset`, then `dataBytes` zero bytes of data.
    static func oneTensor(_ dimensions: [UInt64], type: UInt32 = 0, offset: UInt64 = 0, dataBytes: Int = 64,
                          metadata: (inout GGUFBytes) -> Void = { _ in }, metadataCount: UInt64 = 0) -> [UInt8] {
        var file = GGUFBytes(tensorCount: 1, metadataCount: metadataCount)
        metadata(&file)
        file.tensorInfo("w", dimensions: dimensions, type: type, offset: offset)
        file.pad(to: 32)
        file.append(zeros: dataBytes)
        return file.bytes
    }

    public static let all: [GGUFCases] = {
        var cases: [GGUFCases] = []
        func add(_ name: String, _ expected: String, _ bytes: [UInt8]) {
            cases.append(GGUFCases(name: name, bytes: bytes, expected: expected))
        }
        // Dimensions: ne[0] · ne[1] = 2^64 (wraps to 0 in u64 arithmetic), and the f32 byte size 4 · 2^62.
        add("dims-product-overflow", "fits in 63 bits", oneTensor([1 << 32, 1 << 32]))
        add("dims-bytes-overflow", "fits in 63 bits", oneTensor([1 << 31, 1 << 31]))
        // A 0 first: the element count is 0, but the rows (ne[1] · ne[2] = 2^124) still overflow.
        add("dims-zero-then-overflow", "fits in 63 bits", oneTensor([0, 1 << 62, 1 << 62]))
        add("dim-above-int64", "fits in 63 bits", oneTensor([UInt64.max]))
        add("too-many-dims", "at most 4", oneTensor([1, 1, 1, 1, 1]))
        // An f64 row (type 28) of 2^61 values: the element count fits, its 2^64 bytes do not.
        add("f64-row-bytes-overflow", "a row byte size (8 bytes per 1 values) that fits in 63 bits", oneTensor([1 << 61], type: 28))
        // Counts: a tensor count and a metadata count whose item sizes sum past 2^64.
        add("tensor-count-overflow", "tensor_count",
            GGUFBytes(tensorCount: UInt64.max / 8, metadataCount: 0).bytes + [UInt8](repeating: 0, count: 64))
        add("metadata-count-overflow", "metadata_kv_count",
            GGUFBytes(tensorCount: 0, metadataCount: UInt64.max).bytes + [UInt8](repeating: 0, count: 64))
        // Strings and arrays: lengths past the end, and an element count × element size that wraps.
        var string = GGUFBytes(tensorCount: 0, metadataCount: 1)
        string.metadataString("general.name", "x", length: UInt64.max)
        add("string-length-past-end", "string length", string.bytes)
        var array = GGUFBytes(tensorCount: 0, metadataCount: 1)
        array.metadataArray("tokenizer.ggml.scores", elementType: 6, count: UInt64.max / 4 + 2)  // f32: 4 · count wraps
        array.append(zeros: 64)
        add("array-count-overflow", "array length", array.bytes)
        var strings = GGUFBytes(tensorCount: 0, metadataCount: 1)
        strings.metadataArray("tokenizer.ggml.tokens", elementType: 8, count: 1 << 61)
        strings.append(zeros: 64)
        add("string-array-count-past-end", "array length", strings.bytes)
        // Offsets: past the end of the file, near 2^64, and the data itself cut short.
        add("offset-past-end", "offset", oneTensor([16], offset: 1 << 20))
        add("offset-near-2^64", "offset", oneTensor([16], offset: UInt64.max - 31))
        add("data-past-end", "needs", oneTensor([1024], dataBytes: 64))
        // Alignment: 0 (a division by zero in ggml before the check), not a power of two, and a wrong type.
        for (name, value) in [("alignment-0", UInt32(0)), ("alignment-3", 3), ("alignment-2^31", 1 << 31)] {
            let bytes = oneTensor([16], metadata: { $0.metadataU32("general.alignment", value) }, metadataCount: 1)
            // 2^31 is a valid alignment: the data section then starts past the end of the file.
            add(name, value == 1 << 31 ? "needs 64 bytes at byte 2147483648" : "power of two", bytes)
        }
        return cases
    }()
}
