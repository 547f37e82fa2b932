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

/// bitsandbytes 4-bit weights: the reference decode of `BitsAndBytes4Bit`, the nested absmax first.
extension CPUBackend {
    public func dequantize4Bit(_ weight: FourBitWeightTensors, into out: Tensor) throws {
        let op = "dequantize4Bit(\(weight.quantType))"
        let n = try OpCheck.dequantize4Bit(weight, out: out)
        let blocks = weight.absmax.count
        let packed = try raw(weight.packed).assumingMemoryBound(to: UInt8.self)
        var absmax: [Float]
        if let nested = weight.nested {
            let codes = try raw(weight.absmax).assumingMemoryBound(to: UInt8.self)
            let scales = try f32(nested.scales, "\(op) nested scales")
            let map = try f32(nested.map, "\(op) nested map")
            absmax = [Float](repeating: 0, count: blocks)
            BitsAndBytes4Bit.decodeNestedAbsmax(Array(UnsafeBufferPointer(start: codes, count: blocks)),
                                                scales: Array(UnsafeBufferPointer(start: scales, count: nested.scales.count)),
                                                map: Array(UnsafeBufferPointer(start: map, count: 256)),
                                                offset: nested.offset, blockSize: nested.blockSize, into: &absmax)
        } else {
            absmax = Array(UnsafeBufferPointer(start: try f32(weight.absmax, "\(op) absmax"), count: blocks))
        }
        try staged { s in
            let destination = try s.output(out, "\(op) out")
            absmax.withUnsafeBufferPointer { absmax in
                BitsAndBytes4Bit.decode(packed: packed, absmax: absmax.baseAddress!, count: n,
                                        quantType: weight.quantType, blockSize: weight.blockSize, into: destination)
            }
        }
    }
}
