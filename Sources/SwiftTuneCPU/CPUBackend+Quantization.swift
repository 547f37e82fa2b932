import SwiftTuneQuantization
import SwiftTuneTensor

/// Quantized weights: decoding a block-format matrix into f32 with the format's reference arithmetic.
extension CPUBackend {
    public func dequantize(_ blocks: Tensor, format: BlockFormat, into out: Tensor) throws {
        let op = "dequantize(\(format))"
        guard blocks.dtype == .u8 else {
            throw TensorError.dtypeMismatch(op: "\(op) blocks", expected: "u8", got: blocks.dtype)
        }
        let (rows, columns) = try matrixSize(out, "\(op) out")
        guard let rowBytes = format.rowByteCount(columns) else {
            throw TensorError.shapeMismatch(op: "\(op) out",
                                            expected: "rows of whole \(format.blockSize)-value blocks", got: out.shape)
        }
        try requireCount(blocks, rows * rowBytes, "\(op) blocks (\(rows) rows of \(rowBytes) bytes)")
        let destination = try f32(out, "\(op) out")
        let source = UnsafeRawPointer(try raw(blocks))
        do throws(QuantizationError) {
            try format.decode(source, rows: rows, columns: columns, into: destination)
        } catch {
            throw TensorError.invalidArgument(op: op, reason: error.description)
        }
    }
}
