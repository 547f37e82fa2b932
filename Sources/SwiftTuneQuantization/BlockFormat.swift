/// A packed weight format: how a row of values is stored as blocks of codes with their scales.
///
/// Today the GGML block types (llama.cpp's GGUF files); bitsandbytes' NF4/FP4 with their absmax (and nested absmax)
/// join as a case of their own. A weight in a block format is a row-major `[rows, columns]` matrix stored as `rows`
/// rows of `rowByteCount(columns)` bytes, back to back; rows are independent, so a slice or a permutation of rows is a
/// slice or a permutation of row bytes.
public enum BlockFormat: Sendable, Hashable, CustomStringConvertible {
    /// One of ggml's `enum ggml_type` block formats (ggml-common.h), scales inside each block.
    case ggml(GGMLType)

    /// The formats `decode` handles.
    public static var decodable: [BlockFormat] { GGMLType.dequantizable.map(BlockFormat.ggml) }

    /// Whether `decode` handles this format.
    public var isDecodable: Bool {
        switch self {
        case let .ggml(type): type.isDequantizable
        }
    }

    /// Values per block.
    public var blockSize: Int {
        switch self {
        case let .ggml(type): type.blockSize
        }
    }

    /// Bytes of one row of `columns` values, or nil when `columns` is not a whole number of blocks.
    public func rowByteCount(_ columns: Int) -> Int? {
        switch self {
        case let .ggml(type): type.rowByteCount(columns)
        }
    }

    /// Decodes `rows` rows of `columns` values from `source` into `destination` (`rows · columns` floats), the
    /// reference arithmetic (bit-identical to gguf-py and ggml's scalar code for the GGML types).
    ///
    /// - Throws: `unsupportedFormat` for a format outside `decodable`; `invalidArgument` when `columns` is not a
    ///   whole number of blocks.
    public func decode(_ source: UnsafeRawPointer, rows: Int, columns: Int,
                       into destination: UnsafeMutablePointer<Float>) throws(QuantizationError) {
        guard isDecodable else {
            throw .unsupportedFormat(operation: "BlockFormat.decode", format: description,
                                     supported: Self.decodable.map(\.description))
        }
        guard rows >= 0, rowByteCount(columns) != nil else {
            throw .invalidArgument(operation: "BlockFormat.decode(\(self))",
                                   reason: "rows of \(columns) values are not whole \(blockSize)-value blocks")
        }
        switch self {
        case let .ggml(type):
            GGMLDequantizer.dequantize(type, source: source, rows: rows, rowLength: columns, into: destination)
        }
    }

    public var description: String {
        switch self {
        case let .ggml(type): type.name
        }
    }
}
