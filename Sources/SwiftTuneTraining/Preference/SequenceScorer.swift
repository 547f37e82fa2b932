import SwiftTuneChat
import SwiftTuneModels
import SwiftTuneTensor

/// Per-sequence answer log-probabilities of a packed batch: one forward pass, the fused lm_head's per-token
/// log-probabilities, summed per sequence on the host (the preference losses are functions of these few numbers).
struct SequenceScores {
    /// The training forward pass (for `backward`), nil for a reference pass.
    var pass: DecoderForwardPass?
    /// `[S]` Σ log p(target) over each sequence's scored tokens.
    var sums: [Double]
    /// `[S]` scored tokens per sequence.
    var counts: [Int]
    /// `[S]` Σ over each sequence's scored tokens of the mean logit over the vocabulary (TRL's `logits/*`).
    var logitSums: [Double]
    /// `[N]` the batch's token count per sequence, for spreading per-sequence weights over tokens.
    var lengths: [Int]
    /// Per sequence, per position: whether the target counts in `sums` (the answer), and whether it is scored at all.
    var inSum: [[Bool]]
    var scored: [[Bool]]
    /// `[S]` Σ log p(target) over every scored target (ORPO's NLL covers the prompt too).
    var scoredSums: [Double]
    var scoredCounts: [Int]
}

enum SequenceScorer {
    /// Scores `samples` packed end to end. With `keepPass`, the forward pass is kept for a backward pass.
    ///
    /// - Parameter answerLabels: per sample, labels marking the answer when the samples' own labels score more (ORPO
    ///   scores the whole chosen sequence for its NLL but sums only the answer); nil: the samples' labels.
    static func score(model: DecoderModel, samples: [EncodedSample], dropoutSeed: UInt64?, keepPass: Bool,
                      wantLogits: Bool = true, answerLabels: [[Int32]?]? = nil) throws -> SequenceScores {
        let batch = try TokenBatch(sequences: samples.map(\.inputIDs), labels: samples.map(\.labels))
        try batch.validate(vocabularySize: model.config.vocabSize)
        let backend = model.backend
        let pass = try model.forward(batch.upload(to: backend), dropoutSeed: dropoutSeed)
        let output = try model.tokenLogProbabilities(pass)
        guard let logProbabilities = output.logProbabilities else {
            throw TrainingError.invalidArgument(flag: "rlhf_type", value: "-", expected: "per-token log-probabilities from the model")
        }
        let tokenLogps = try backend.floats(logProbabilities)  // (N,)
        var meanLogits: [Float] = []
        if wantLogits, pass.hidden.dtype == .f32, model.lmHead.value.dtype == .f32 {
            // mean_v logits[t, v] = h_t · (Σ_v W_v) / V: one [1, V]·[V, D] and one [N, D]·[D, 1] product.
            let vocab = model.lmHead.value.size(0), hiddenSize = model.lmHead.value.size(1)
            let ones = try backend.tensor([Float](repeating: 1, count: vocab), shape: [1, vocab], dtype: .f32)
            let meanRow = try backend.empty([1, hiddenSize], dtype: .f32)  // (1, D)
            try backend.matmul(ones, model.lmHead.value, into: meanRow, transposeA: false, transposeB: false,
                               alpha: 1 / Float(vocab), beta: 0)
            let perToken = try backend.empty([batch.count, 1], dtype: .f32)  // (N, 1)
            try backend.matmul(pass.hidden, meanRow, into: perToken, transposeA: false, transposeB: true, alpha: 1, beta: 0)
            meanLogits = try backend.floats(perToken)
        }
        var scores = SequenceScores(pass: keepPass ? pass : nil, sums: [], counts: [], logitSums: [], lengths: [],
                                    inSum: [], scored: [], scoredSums: [], scoredCounts: [])
        for s in 0..<(batch.sequenceStarts.count - 1) {
            let range = Int(batch.sequenceStarts[s])..<Int(batch.sequenceStarts[s + 1])
            let answer = answerLabels?[s]
            var sum = 0.0, count = 0, logits = 0.0, scoredSum = 0.0, scoredCount = 0
            var inSum: [Bool] = [], scored: [Bool] = []
            for (offset, t) in range.enumerated() {
                let isScored = batch.targets[t] != TokenBatch.ignoreIndex
                // The target of position t is the label of token t + 1.
                let isAnswer = isScored && (answer.map { offset + 1 < $0.count && $0[offset + 1] != TokenBatch.ignoreIndex } ?? true)
                scored.append(isScored)
                inSum.append(isAnswer)
                if isScored { scoredSum += Double(tokenLogps[t]); scoredCount += 1 }
                guard isAnswer else { continue }
                sum += Double(tokenLogps[t])
                count += 1
                if !meanLogits.isEmpty { logits += Double(meanLogits[t]) }
            }
            scores.sums.append(sum)
            scores.counts.append(count)
            scores.logitSums.append(logits)
            scores.lengths.append(range.count)
            scores.inSum.append(inSum)
            scores.scored.append(scored)
            scores.scoredSums.append(scoredSum)
            scores.scoredCounts.append(scoredCount)
        }
        return scores
    }

    /// The reference model's sums: the same model with its adapters switched off (LoRA), no dropout, no gradient.
    static func referenceSums(model: DecoderModel, samples: [EncodedSample]) throws -> [Double] {
        try model.withAdaptersDisabled {
            try score(model: model, samples: samples, dropoutSeed: nil, keepPass: false, wantLogits: false).sums
        }
    }

    /// Per-token gradient weights `w_t = −∂L/∂ log p_t` from per-sequence derivatives (plus a per-token term for
    /// the sequences `tokenTerm` marks), over every position of the batch. `[N]` f32.
    /// `sequenceDerivative[s]` applies to the answer targets of sequence s, `tokenTerm[s]` to all its scored ones.
    static func tokenWeights(_ scores: SequenceScores, sequenceDerivative: [Double], tokenTerm: [Double]) -> [Float] {
        var weights: [Float] = []
        for s in scores.lengths.indices {
            for (inSum, scored) in zip(scores.inSum[s], scores.scored[s]) {
                weights.append(Float(-((inSum ? sequenceDerivative[s] : 0) + (scored ? tokenTerm[s] : 0))))
            }
        }
        return weights
    }
}
