import SwiftTuneTensor

/// Fused softmax cross-entropy: per-row kernel over threads, then an in-order sum into `stats`.
extension CPUBackend {
    public func crossEntropy(logits: Tensor, targets: Tensor, gradientScale: Float?, tokenWeights: Tensor?,
                             stats: Tensor, logProbabilities: Tensor?) throws {
        let op = "crossEntropy"
        let size = try OpCheck.crossEntropy(logits: logits, targets: targets, stats: stats,
                                            logProbabilities: logProbabilities, tokenWeights: tokenWeights)
        let (rows, vocabulary) = (size.rows, size.columns)
        let weights = try tokenWeights.map { SendablePointer(try f32($0, "\(op) tokenWeights")) }
        let scores = SendablePointer(try f32(logits, "\(op) logits"))
        let labels = try i32(targets, "\(op) targets")
        let totalsPointer = try f32(stats, "\(op) stats")
        // Every target is checked before the logits are overwritten with the gradient.
        for n in 0..<rows where labels[n] != CPUKernels.ignoreIndex && (labels[n] < 0 || Int(labels[n]) >= vocabulary) {
            throw TensorError.indexOutOfRange(op: "\(op) targets[\(n)] (-100 = ignored)", index: Int(labels[n]),
                                              bound: vocabulary)
        }

        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, 1))
        let predictions = UnsafeMutablePointer<Int32>.allocate(capacity: max(rows, 1))
        defer { scratch.deallocate(); predictions.deallocate() }
        let logProbs = SendablePointer(try logProbabilities.map { try f32($0, "\(op) logProbabilities") } ?? scratch)
        let (targetIDs, argmax) = (SendablePointer(labels), SendablePointer(predictions))
        parallelFor(rows, grain: max(1, (1 << 16) / max(vocabulary, 1))) { range in
            CPUKernels.crossEntropy(logits: scores.pointer, targets: targetIDs.pointer, vocabulary: vocabulary,
                                    gradientScale: gradientScale, tokenWeights: weights.map { UnsafePointer($0.pointer) },
                                    logProbabilities: logProbs.pointer,
                                    predictions: argmax.pointer, rows: range)
        }
        let totals = CPUKernels.crossEntropyTotals(targets: labels, logProbabilities: logProbs.pointer,
                                                   predictions: predictions, rows: rows)
        totalsPointer[0] += Float(totals.lossSum)
        totalsPointer[1] += Float(totals.count)
        totalsPointer[2] += Float(totals.correct)
    }
}
