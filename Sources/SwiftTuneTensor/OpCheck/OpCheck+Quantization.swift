import SwiftTuneQuantization

extension OpCheck {
    /// `dequantize`: `blocks` u8 holding `out`'s rows in `format`, `out` f32 `[rows, columns]` with whole blocks per
    /// row. Returns the matrix size.
    public static func dequantize(_ blocks: Tensor, format: BlockFormat, out: Tensor) throws -> RowShape {
        let op = "dequantize(\(format))"
        try dtype(blocks, .u8, op, "blocks")
        try storage(op, (out, "out"))
        try rank(out, 2, op, "out", layout: "[rows, columns]")
        let size = RowShape(rows: out.size(0), columns: out.size(1))
        guard let rowBytes = format.rowByteCount(size.columns) else {
            throw TensorError.shapeMismatch(op: "\(op) out", expected: "rows of whole \(format.blockSize)-value blocks",
                                            got: out.shape)
        }
        try count(blocks, size.rows * rowBytes, op, "blocks (\(size.rows) rows of \(rowBytes) bytes)")
        return size
    }
}
