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

extension CPUBackend {
    /// The reference encoder: `BitsAndBytes4Bit.quantize` without double quantization; a block holding a NaN or an
    /// infinity gets absmax NaN (the encoder itself refuses such values).
    public func quantize4Bit(_ values: Tensor, quantType: FourBitQuantType, blockSize: Int, packed: Tensor,
                             absmax: Tensor) throws {
        let op = "quantize4Bit(\(quantType))"
        let n = try OpCheck.quantize4Bit(values, quantType: quantType, blockSize: blockSize, packed: packed,
                                         absmax: absmax)
        var floats = try staged { s in Array(UnsafeBufferPointer(start: try s.input(values, "\(op) values"), count: n)) }
        var badBlocks: [Int] = []
        for (i, v) in floats.enumerated() where !v.isFinite {
            if badBlocks.last != i / blockSize { badBlocks.append(i / blockSize) }
            floats[i] = 0
        }
        let weight: BitsAndBytes4Bit
        do throws(QuantizationError) {
            weight = try BitsAndBytes4Bit.quantize(floats, shape: [n], quantType: quantType, doubleQuantization: false,
                                                   blockSize: blockSize)
        } catch {
            throw TensorError.invalidArgument(op: op, reason: error.description)
        }
        guard case var .plain(scales) = weight.absmax else { preconditionFailure("quantized without double quantization") }
        for b in badBlocks { scales[b] = .nan }
        let packedOut = try raw(packed).assumingMemoryBound(to: UInt8.self)
        weight.packed.withUnsafeBufferPointer { packedOut.update(from: $0.baseAddress!, count: $0.count) }
        let absmaxOut = try f32(absmax, "\(op) absmax")
        scales.withUnsafeBufferPointer { absmaxOut.update(from: $0.baseAddress!, count: $0.count) }
    }
}
