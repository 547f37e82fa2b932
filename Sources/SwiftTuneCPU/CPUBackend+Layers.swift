import SwiftTuneTensor

/// Embedding, RMSNorm and RoPE: validation, bf16 tensors staged through f32 (`F32Staging`), and the `CPUKernels`
/// split over threads.
extension CPUBackend {
    // MARK: Embedding

    public func embedding(ids: Tensor, table: Tensor, into out: Tensor) throws {
        let size = try OpCheck.embedding(ids: ids, table: table, out: out)
        let (vocabulary, width) = (size.vocabulary, size.width)
        let tokenIDs = SendablePointer(try checkedIDs(ids, bound: vocabulary, "embedding"))
        if table.dtype == .bf16 {
            // A gather copies rows: bf16 rows are copied as they are (the same bits staging would give), without
            // widening the whole table.
            let rows = SendablePointer(try raw(table).bindMemory(to: UInt16.self, capacity: table.count))
            let result = SendablePointer(try raw(out).bindMemory(to: UInt16.self, capacity: out.count))
            parallelFor(ids.count, grain: max(1, Self.elementwiseGrain / max(width, 1))) { tokens in
                for n in tokens {
                    (result.pointer + n * width).update(from: rows.pointer + Int(tokenIDs[n]) * width, count: width)
                }
            }
            return
        }
        let rows = SendablePointer(try f32(table, "embedding table")), result = SendablePointer(try f32(out, "embedding out"))
        parallelFor(ids.count, grain: max(1, Self.elementwiseGrain / max(width, 1))) { tokens in
            CPUKernels.embedding(ids: tokenIDs.pointer, table: rows.pointer, width: width, into: result.pointer,
                                 tokens: tokens)
        }
    }

    public func embeddingBackward(ids: Tensor, gradOutput: Tensor, into gradTable: Tensor) throws {
        let size = try OpCheck.embeddingBackward(ids: ids, gradOutput: gradOutput, gradTable: gradTable)
        let (vocabulary, width) = (size.vocabulary, size.width)
        let tokenIDs = SendablePointer(try checkedIDs(ids, bound: vocabulary, "embeddingBackward"))
        let tokens = ids.count
        try staged { s in
            let grad = SendablePointer(try s.input(gradOutput, "embeddingBackward gradOutput"))
            let table = SendablePointer(try s.update(gradTable, "embeddingBackward gradTable"))
            // Threads own column strips, so repeated ids never race.
            parallelFor(width, grain: 64) { columns in
                CPUKernels.embeddingBackward(ids: tokenIDs.pointer, gradOutput: grad.pointer, tokens: tokens,
                                             width: width, into: table.pointer, columns: columns)
            }
        }
    }

    // MARK: RMSNorm

    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, into out: Tensor, inverseRMS: Tensor?) throws {
        let size = try OpCheck.rmsNorm(x, weight: weight, out: out, inverseRMS: inverseRMS)
        let (rows, width) = (size.rows, size.columns)
        try staged { s in
            let input = SendablePointer(try s.input(x, "rmsNorm x"))
            let gain = SendablePointer(try s.input(weight, "rmsNorm weight"))
            let result = SendablePointer(try s.output(out, "rmsNorm out"))
            let inverse = try inverseRMS.map { SendablePointer(try f32($0, "rmsNorm inverseRMS")) }
            parallelFor(rows, grain: max(1, Self.elementwiseGrain / max(width, 1))) { range in
                CPUKernels.rmsNorm(input.pointer, weight: gain.pointer, epsilon: epsilon, width: width,
                                   into: result.pointer, inverseRMS: inverse?.pointer, rows: range)
            }
        }
    }

    public func rmsNormBackward(_ x: Tensor, weight: Tensor, inverseRMS: Tensor, gradOutput: Tensor,
                                into gradInput: Tensor, gradWeight: Tensor?) throws {
        let size = try OpCheck.rmsNormBackward(x, weight: weight, inverseRMS: inverseRMS, gradOutput: gradOutput,
                                               gradInput: gradInput, gradWeight: gradWeight)
        let (rows, width) = (size.rows, size.columns)
        try staged { s in
            let input = SendablePointer(try s.input(x, "rmsNormBackward x"))
            let gain = SendablePointer(try s.input(weight, "rmsNormBackward weight"))
            let inverse = SendablePointer(try f32(inverseRMS, "rmsNormBackward inverseRMS"))
            let grad = SendablePointer(try s.input(gradOutput, "rmsNormBackward gradOutput"))
            let gradX = SendablePointer(try s.output(gradInput, "rmsNormBackward gradInput"))
            // The weight gradient goes first: it still reads gradOutput, which gradInput may overwrite.
            if let gradWeight {
                let gradW = SendablePointer(try s.update(gradWeight, "rmsNormBackward gradWeight"))
                parallelFor(width, grain: 64) { columns in
                    CPUKernels.rmsNormBackwardWeight(input.pointer, inverseRMS: inverse.pointer,
                                                     gradOutput: grad.pointer, rows: rows, width: width,
                                                     into: gradW.pointer, columns: columns)
                }
            }
            parallelFor(rows, grain: max(1, Self.elementwiseGrain / max(width, 1))) { range in
                CPUKernels.rmsNormBackwardInput(input.pointer, weight: gain.pointer, inverseRMS: inverse.pointer,
                                                gradOutput: grad.pointer, width: width, into: gradX.pointer, rows: range)
            }
        }
    }

    // MARK: RoPE

    public func rope(_ x: Tensor, positions: Tensor, inverseFrequencies: Tensor, attentionScaling: Float,
                     inverse: Bool, into out: Tensor) throws {
        let size = try OpCheck.rope(x, positions: positions, inverseFrequencies: inverseFrequencies, out: out)
        let (tokens, heads, headDim) = (size.tokens, size.heads, size.headDim)
        try staged { s in
            let input = SendablePointer(try s.input(x, "rope x"))
            let position = SendablePointer(try i32(positions, "rope positions"))
            let frequencies = SendablePointer(try f32(inverseFrequencies, "rope inverseFrequencies"))
            let result = SendablePointer(try s.output(out, "rope out"))
            parallelFor(tokens, grain: max(1, Self.elementwiseGrain / max(heads * headDim, 1))) { range in
                CPUKernels.rope(input.pointer, positions: position.pointer, inverseFrequencies: frequencies.pointer,
                                attentionScaling: attentionScaling, inverse: inverse, heads: heads, headDim: headDim,
                                into: result.pointer, tokens: range)
            }
        }
    }
}
