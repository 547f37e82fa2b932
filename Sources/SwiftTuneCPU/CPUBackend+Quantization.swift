import SwiftTuneQuantization
import SwiftTuneTensor

/// Quantized weights: decoding a block-format matrix into f32 (or bf16, rounded from f32) with the format's reference arithmetic.
extension CPUBackend {
    public func dequantize(_ blocks: Tensor, format: BlockFormat, into out: Tensor) throws {
        let op = "dequantize(\(format))"
        let size = try OpCheck.dequantize(blocks, format: format, out: out)
        let (rows, columns) = (size.rows, size.columns)
        let source = UnsafeRawPointer(try raw(blocks))
        try staged { s in
            let destination = try s.output(out, "\(op) out")
            do throws(QuantizationError) {
                try format.decode(source, rows: rows, columns: columns, into: destination)
            } catch {
                throw TensorError.invalidArgument(op: op, reason: error.description)
            }
        }
    }
}
