/// Totals of one cross-entropy chunk, the values `Backend.crossEntropy` adds into its `stats` tensor.
struct CrossEntropyTotals: Sendable, Equatable {
    /// `Σ −log p(target)` over scored rows.
    var lossSum: Double = 0
    /// Rows whose target is not the ignore index.
    var count = 0
    /// Scored rows whose argmax is the target.
    var correct = 0
}

extension CPUKernels {
    /// The target that marks a row as not scored (PyTorch's `ignore_index`).
    static let ignoreIndex: Int32 = -100

    /// Softmax cross-entropy for rows in `rows` of logits `[N, vocabulary]`, targets `[N]`.
    ///
    /// Writes `logProbabilities[n] = log p(target)` (0 for ignored rows) and `predictions[n]` = the argmax
    /// (first index on ties), both `[N]`. When `gradientScale` is set, overwrites the row of logits with
    /// `s · (softmax − onehot(target))`, or zeros for an ignored row, where `s = gradientScale`, or
    /// `gradientScale · tokenWeights[n]` when per-row weights are given. The log-sum-exp subtracts
    /// the row max and sums the exponentials in `Double`. Targets must be `ignoreIndex` or in `0..<vocabulary`.
    static func crossEntropy<T: KernelScalar>(
        logits: UnsafeMutablePointer<T>, targets: UnsafePointer<Int32>, vocabulary: Int, gradientScale: T?,
        tokenWeights: UnsafePointer<T>? = nil, logProbabilities: UnsafeMutablePointer<T>, predictions: UnsafeMutablePointer<Int32>, rows: Range<Int>
    ) {
        for n in rows {
            let row = logits + n * vocabulary
            var maxValue = row[0], argmax = 0
            for v in 1..<max(vocabulary, 1) where row[v] > maxValue {
                maxValue = row[v]
                argmax = v
            }
            predictions[n] = Int32(argmax)
            let target = targets[n]
            guard target != ignoreIndex else {
                logProbabilities[n] = 0
                if gradientScale != nil { row.update(repeating: 0, count: vocabulary) }
                continue
            }
            let targetIndex = Int(target), targetLogit = row[targetIndex]
            // With a gradient to write, the row keeps exp(x_v − max) so each exponential is taken once.
            let keepExponentials = gradientScale != nil
            var sumOfExponentials = 0.0
            for v in 0..<vocabulary {
                let exponential = T.exp(row[v] - maxValue)
                sumOfExponentials += Double(exponential)
                if keepExponentials { row[v] = exponential }
            }
            logProbabilities[n] = T(Double(targetLogit) - Double(maxValue) - Double.log(sumOfExponentials))

            guard let baseScale = gradientScale else { continue }
            let gradientScale = tokenWeights.map { baseScale * $0[n] } ?? baseScale
            // gradientScale · (p − onehot), with p = exp(x − max) / Σ and the one subtracted before scaling.
            let inverseSum = T(1 / sumOfExponentials)
            let targetProbability = row[targetIndex] * inverseSum
            for v in 0..<vocabulary { row[v] = gradientScale * (row[v] * inverseSum) }
            row[targetIndex] = gradientScale * (targetProbability - 1)
        }
    }

    /// Sums the per-row results of `crossEntropy` over `rows` rows in order (deterministic).
    static func crossEntropyTotals<T: KernelScalar>(targets: UnsafePointer<Int32>, logProbabilities: UnsafePointer<T>,
                                                    predictions: UnsafePointer<Int32>, rows: Int) -> CrossEntropyTotals {
        var totals = CrossEntropyTotals()
        for n in 0..<rows where targets[n] != ignoreIndex {
            totals.lossSum -= Double(logProbabilities[n])
            totals.count += 1
            if predictions[n] == targets[n] { totals.correct += 1 }
        }
        return totals
    }
}
