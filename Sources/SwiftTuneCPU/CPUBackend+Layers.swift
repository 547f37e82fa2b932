import SwiftTuneTensor

/// Embedding, RMSNorm and RoPE: validation plus the `CPUKernels` split over threads.
extension CPUBackend {
    // MARK: Embedding

    public func embedding(ids: Tensor, table: Tensor, into out: Tensor) throws {
        let size = try OpCheck.embedding(ids: ids, table: table, out: out)
        let (vocabulary, width) = (size.vocabulary, size.width)
        let tokenIDs = SendablePointer(try checkedIDs(ids, bound: vocabulary, "embedding"))
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
        let grad = SendablePointer(try f32(gradOutput, "embeddingBackward gradOutput"))
        let table = SendablePointer(try f32(gradTable, "embeddingBackward gradTable"))
        // Threads own column strips, so repeated ids never race.
        parallelFor(width, grain: 64) { columns in
            CPUKernels.embeddingBackward(ids: tokenIDs.pointer, gradOutput: grad.pointer, tokens: tokens, width: width,
                                         into: table.pointer, columns: columns)
        }
    }

    // MARK: RMSNorm

    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, into out: Tensor, inverseRMS: Tensor?) throws {
        let size = try OpCheck.rmsNorm(x, weight: weight, out: out, inverseRMS: inverseRMS)
        let (rows, width) = (size.rows, size.columns)
        let input = SendablePointer(try f32(x, "rmsNorm x")), gain = SendablePointer(try f32(weight, "rmsNorm weight"))
        let result = SendablePointer(try f32(out, "rmsNorm out"))
        let inverse = try inverseRMS.map { SendablePointer(try f32($0, "rmsNorm inverseRMS")) }
        parallelFor(rows, grain: max(1, Self.elementwiseGrain / max(width, 1))) { range in
            CPUKernels.rmsNorm(input.pointer, weight: gain.pointer, epsilon: epsilon, width: width,
                               into: result.pointer, inverseRMS: inverse?.pointer, rows: range)
        }
    }

    public func rmsNormBackward(_ x: Tensor, weight: Tensor, inverseRMS: Tensor, gradOutput: Tensor,
                                into gradInput: Tensor, gradWeight: Tensor?) throws {
        let size = try OpCheck.rmsNormBackward(x, weight: weight, inverseRMS: inverseRMS, gradOutput: gradOutput,
                                               gradInput: gradInput, gradWeight: gradWeight)
        let (rows, width) = (size.rows, size.columns)
        let input = SendablePointer(try f32(x, "rmsNormBackward x"))
        let gain = SendablePointer(try f32(weight, "rmsNormBackward weight"))
        let inverse = SendablePointer(try f32(inverseRMS, "rmsNormBackward inverseRMS"))
        let grad = SendablePointer(try f32(gradOutput, "rmsNormBackward gradOutput"))
        let gradX = SendablePointer(try f32(gradInput, "rmsNormBackward gradInput"))
        // The weight gradient goes first: it still reads gradOutput, which gradInput may overwrite.
        if let gradWeight {
            let gradW = SendablePointer(try f32(gradWeight, "rmsNormBackward gradWeight"))
            parallelFor(width, grain: 64) { columns in
                CPUKernels.rmsNormBackwardWeight(input.pointer, inverseRMS: inverse.pointer, gradOutput: grad.pointer,
                                                 rows: rows, width: width, into: gradW.pointer, columns: columns)
            }
        }
        parallelFor(rows, grain: max(1, Self.elementwiseGrain / max(width, 1))) { range in
            CPUKernels.rmsNormBackwardInput(input.pointer, weight: gain.pointer, inverseRMS: inverse.pointer,
                                            gradOutput: grad.pointer, width: width, into: gradX.pointer, rows: range)
        }
    }

    // MARK: RoPE

    public func rope(_ x: Tensor, positions: Tensor, inverseFrequencies: Tensor, attentionScaling: Float,
                     inverse: Bool, into out: Tensor) throws {
        let size = try OpCheck.rope(x, positions: positions, inverseFrequencies: inverseFrequencies, out: out)
        let (tokens, heads, headDim) = (size.tokens, size.heads, size.headDim)
        let input = SendablePointer(try f32(x, "rope x")), position = SendablePointer(try i32(positions, "rope positions"))
        let frequencies = SendablePointer(try f32(inverseFrequencies, "rope inverseFrequencies"))
        let result = SendablePointer(try f32(out, "rope out"))
        parallelFor(tokens, grain: max(1, Self.elementwiseGrain / max(heads * headDim, 1))) { range in
            CPUKernels.rope(input.pointer, positions: position.pointer, inverseFrequencies: frequencies.pointer,
                            attentionScaling: attentionScaling, inverse: inverse, heads: heads, headDim: headDim,
                            into: result.pointer, tokens: range)
        }
    }
}
