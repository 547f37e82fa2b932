import SwiftTuneQuantization

/// Where one tensor of a GGUF file lives and how it is stored.
///
/// ggml lists dimensions innermost first (`ne`); an HF/PyTorch `[out, in]` matrix is stored with
/// `dimensions == [in, out]` and the same bytes. `shape` gives the row-major (PyTorch) order.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The GGUF tensor name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// ggml's `ne`: the sizes, innermost (contiguous) first.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Byte offset from the start of the data section.
    public let offset: Int
    /// Bytes of tensor data (without the alignment padding that follows).
    public let byteCount: Int
    /// The tensor's bytes within the whole file.
    public let fileRange: Range<Int>

    /// The shape in row-major (PyTorch) order: `dimensions` reversed.
    public var shape: [Int] { dimensions.reversed() }

    /// Values per row: `ne[0]`, the dimension quant blocks run along.
    public var rowLength: Int { dimensions.first ?? 1 }

    /// Rows: the product of the outer dimensions (1 for a vector).
    public var rowCount: Int { dimensions.dropFirst().reduce(1, *) }

    /// All values.
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// Bytes of one row.
    public var rowByteCount: Int { type.rowByteCount(rowLength) ?? 0 }
}
