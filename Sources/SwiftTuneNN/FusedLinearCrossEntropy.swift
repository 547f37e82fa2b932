import Foundation
import SwiftTuneTensor

/// The result of `FusedLinearCrossEntropy.run`: loss statistics and, when asked, per-token log-probabilities
/// and the gradient with respect to the hidden states.
public struct CrossEntropyResult: Sendable {
    /// f32 `[3]`: Σ −log p(target), number of scored tokens, number whose argmax was the target.
    public let stats: Tensor
    /// f32 `[N]`: log p(target) per token (0 where the target is ignored), when requested.
    public let logProbabilities: Tensor?
    /// `[N, D]` in the hidden states' dtype: `dL/dhidden`, when a gradient was requested.
    public let gradHidden: Tensor?
    /// `[N]` on the host: the entropy `−Σ_v p_v log p_v` of the softmax at each requested position (NaN elsewhere).
    public var entropies: [Float]? = nil
}

/// lm_head projection fused with cross-entropy, over chunks of tokens, so the full `[tokens, vocab]` logits
/// never exist: each chunk's logits are made, turned into their gradient in place, and consumed at once.
///
/// The loss is `gradientScale · Σ_t w_t · −log softmax(h_t · Wᵀ)[target_t]` over tokens whose target is not `-100`,
/// with `w_t = 1` unless per-token weights are given; pass `1 / scoredTokens` for HF's mean (SFT). A training
/// objective whose loss is a function of the per-token log-probabilities (DPO, KTO, GRPO) runs the pass once without
/// a gradient to read them, then again with `tokenWeights = −dL/d log p_t`. The same pass accumulates `dL/dW` into the
/// weight's gradient.
public struct FusedLinearCrossEntropy: Sendable {
    /// The output projection `[V, D]` (the embedding table when embeddings are tied).
    public let weight: Parameter
    /// Tokens per chunk: the peak extra memory is `chunkSize × V` floats.
    public let chunkSize: Int

    public init(weight: Parameter, chunkSize: Int = 1024) {
        self.weight = weight
        self.chunkSize = max(1, chunkSize)
    }

    /// - Parameters:
    ///   - hidden: `[N, D]` in the compute dtype, the final-norm output.
    ///   - targets: i32 `[N]`, the next-token ids, `-100` where no loss is taken.
    ///   - gradientScale: when set, computes `dL/dhidden` and accumulates `dL/dW` for this scale.
    ///   - tokenWeights: f32 `[N]` per-token gradient weights `w_t` (with a gradient only).
    ///   - wantLogProbabilities: also return `log p(target)` per token.
    ///   - entropyRows: positions (ascending) whose softmax entropy to return (GRPO's `entropy` metric), read from
    ///     the chunk's logits rows on the host (`Backend.rowEntropies`) before the loss touches them.
    public func run(hidden: Tensor, targets: Tensor, gradientScale: Float?, tokenWeights: Tensor? = nil,
                    wantLogProbabilities: Bool = false, entropyRows: [Int]? = nil) throws -> CrossEntropyResult {
        let backend = hidden.backend
        let (tokens, vocab) = (hidden.size(0), weight.shape[0])
        let stats = try backend.zeros([3], dtype: .f32)
        let logProbabilities = wantLogProbabilities ? try backend.empty([tokens], dtype: .f32) : nil
        let gradHidden = gradientScale == nil ? nil : try backend.empty(hidden.shape, dtype: hidden.dtype)
        var entropies: [Float]? = entropyRows == nil ? nil : Array(repeating: .nan, count: tokens)
        var nextEntropyRow = 0
        var start = 0
        while start < tokens {
            let rows = start..<min(tokens, start + chunkSize)
            let h = try hidden.rows(rows)  // (c, D)
            let logits = try backend.empty([rows.count, vocab], dtype: .f32)  // (c, V) f32: the loss is f32
            // bf16 hidden states × the bf16 weight into f32 logits: the softmax and the loss stay f32.
            try backend.matmul(h, weight.compute, into: logits, transposeA: false, transposeB: true, alpha: 1, beta: 0)
            if let entropyRows {
                // Only the requested rows of the chunk, each a contiguous run of the logits.
                while nextEntropyRow < entropyRows.count, entropyRows[nextEntropyRow] < rows.upperBound {
                    var end = nextEntropyRow + 1
                    while end < entropyRows.count, entropyRows[end] == entropyRows[end - 1] + 1, entropyRows[end] < rows.upperBound {
                        end += 1
                    }
                    let first = entropyRows[nextEntropyRow]
                    if first >= rows.lowerBound {
                        let values = try backend.rowEntropies(try logits.rows((first - rows.lowerBound)..<(entropyRows[end - 1] + 1 - rows.lowerBound)))
                        for (i, h) in values.enumerated() { entropies?[first + i] = h }
                    }
                    nextEntropyRow = end
                }
            }
            try backend.crossEntropy(logits: logits, targets: try targets.rows(rows), gradientScale: gradientScale,
                                     tokenWeights: try tokenWeights?.rows(rows), stats: stats,
                                     logProbabilities: try logProbabilities?.rows(rows))
            if let gradHidden {
                // logits now hold dL/dlogits (c, V) in f32; the products take them in the hidden states' dtype.
                let gradLogits = h.dtype == logits.dtype ? logits : try backend.converted(logits, to: h.dtype)
                try backend.matmul(gradLogits, weight.compute, into: try gradHidden.rows(rows),
                                   transposeA: false, transposeB: false, alpha: 1, beta: 0)
                if let dW = weight.gradient {
                    // dW (V, D) += dlogitsᵀ (V, c) · h (c, D), accumulated in f32.
                    try backend.matmul(gradLogits, h, into: dW, transposeA: true, transposeB: false, alpha: 1, beta: 1)
                }
            }
            start = rows.upperBound
        }
        var result = CrossEntropyResult(stats: stats, logProbabilities: logProbabilities, gradHidden: gradHidden)
        result.entropies = entropies
        return result
    }
}

extension Backend {
    /// The softmax entropy of each row of f32 logits `[R, V]`: `log Σ e^z − Σ softmax(z)·z`, in f64 on the host (a
    /// metric: one read of the chunk the loss reads anyway; no backend kernel yet).
    public func rowEntropies(_ logits: Tensor) throws -> [Float] {
        guard logits.rank == 2, logits.dtype == .f32 else {
            throw TensorError.shapeMismatch(op: "rowEntropies", expected: "f32 [rows, vocab] logits", got: logits.shape)
        }
        let values = try floats(logits)
        let (rows, vocab) = (logits.size(0), logits.size(1))
        return (0..<rows).map { r in
            let row = values[(r * vocab)..<((r + 1) * vocab)]
            let top = Double(row.max() ?? 0)
            var sum = 0.0, weighted = 0.0
            for z in row {
                let e = Foundation.exp(Double(z) - top)
                sum += e
                weighted += e * (Double(z) - top)
            }
            return Float(Foundation.log(sum) - weighted / sum)
        }
    }
}
