import SwiftTuneModels
import SwiftTuneTensor

/// A small second objective that proves the objective seam before preference training uses it: the weighted
/// sequence log-likelihood `L = −(1/S) · Σ_s c_s · log p(answer_s)`, `log p(answer_s)` the sum of the log-probabilities
/// of the scored tokens of sequence s, `c_s` a weight per training example (1 by default; a negative weight pushes an
/// answer away, as KTO's undesirable rows do), S the sequences of the accumulated step.
///
/// It takes the two-pass path every preference objective takes: `forward`, `tokenLogProbabilities` (the per-token
/// log-probabilities its statistics need), then `backward` with per-token gradient weights `w_t = c_s / S` (that is
/// `−dL/d log p_t`). Statistics: f32 `[3]` = Σ_s c_s · log p(answer_s), sequences, scored tokens.
public final class SequenceLogProbabilityObjective: TrainingObjective {
    public let train: [TrainingExample]
    public let validation: [TrainingExample]
    /// `c` per training example.
    public let weights: [Float]

    public init(train: [TrainingExample], validation: [TrainingExample] = [], weights: [Float]? = nil) throws {
        guard !train.isEmpty else { throw TrainingError.noTrainableTokens(dataset: "the training set (it is empty)") }
        if let weights, weights.count != train.count {
            throw TrainingError.invalidArgument(flag: "weights", value: "\(weights.count) values",
                                                expected: "one per training example (\(train.count))")
        }
        self.train = train
        self.validation = validation
        self.weights = weights ?? Array(repeating: 1, count: train.count)
    }

    public var trainCount: Int { train.count }
    public var validationCount: Int { validation.count }

    public func tokenCount(train indices: [Int]) -> Int { indices.reduce(0) { $0 + train[$1].tokenCount } }

    public func accumulateGradients(model: DecoderModel, microBatches: [[Int]], step: Int, runSeed: UInt64) throws -> Tensor {
        let backend = model.backend
        let sequences = microBatches.reduce(0) { total, batch in total + batch.reduce(0) { $0 + train[$1].sequences.count } }
        let statistics = try backend.zeros([3], dtype: .f32)
        for (micro, indices) in microBatches.enumerated() {
            let batch = try TokenBatch(examples: indices.map { train[$0] })
            try batch.validate(vocabularySize: model.config.vocabSize)
            // Per token: the weight of the example its sequence belongs to, over S (host-known: no device read).
            var tokenWeights: [Float] = []
            for index in indices {
                for sequence in train[index].sequences {
                    tokenWeights += Array(repeating: weights[index] / Float(sequences), count: sequence.count)
                }
            }
            let seed = DropoutMask.stepSeed(run: runSeed, step: step, microBatch: micro)
            let pass = try model.forward(batch.upload(to: backend), dropoutSeed: seed)
            let logProbabilities = try model.tokenLogProbabilities(pass)
            try accumulate(statistics, logProbabilities, tokenWeights: tokenWeights, sequences: batch.sequenceStarts.count - 1,
                           scale: Float(sequences), backend: backend)
            let weightTensor = try backend.tensor(tokenWeights, shape: [tokenWeights.count], dtype: .f32)
            _ = try model.backward(pass, gradient: LogProbabilityGradient(gradientScale: 1, tokenWeights: weightTensor))
        }
        return statistics
    }

    /// Adds this micro-batch's `Σ_s c_s · log p(answer_s)` (= S · Σ_t w_t · log p_t), its sequence count and its
    /// scored tokens into `statistics`, on the device.
    private func accumulate(_ statistics: Tensor, _ output: DecoderLossOutput, tokenWeights: [Float], sequences: Int,
                            scale: Float, backend: any Backend) throws {
        guard let logProbabilities = output.logProbabilities else { return }
        // Σ_t w_t · log p_t as a [1, N] · [N, 1] product, on the device.
        let weighted = try backend.zeros([1, 1], dtype: .f32)
        let weights = try backend.tensor(tokenWeights, shape: [1, tokenWeights.count], dtype: .f32)
        try backend.matmul(weights, logProbabilities.reshaped([tokenWeights.count, 1]), into: weighted,
                           transposeA: false, transposeB: false, alpha: scale, beta: 0)
        let head = try statistics.rows(0..<1)
        try backend.add(head, weighted.reshaped([1]), scale: 1, into: head)
        let counts = try backend.tensor([0, Float(sequences), 0], shape: [3], dtype: .f32)
        try backend.add(statistics, counts, scale: 1, into: statistics)
        let tokens = try statistics.rows(2..<3)  // the cross-entropy pass's stats[1] counts the scored tokens
        try backend.add(tokens, try output.stats.rows(1..<2), scale: 1, into: tokens)
    }

    public func evaluate(model: DecoderModel, validation indices: [Int]) throws -> Tensor {
        let batch = try TokenBatch(examples: indices.map { validation[$0] })
        try batch.validate(vocabularySize: model.config.vocabSize)
        let output = try model.tokenLogProbabilities(model.forward(batch.upload(to: model.backend)))
        let statistics = try model.backend.zeros([3], dtype: .f32)
        let weights = [Float](repeating: 1, count: batch.count)
        try accumulate(statistics, output, tokenWeights: weights, sequences: batch.sequenceStarts.count - 1, scale: 1,
                       backend: model.backend)
        return statistics
    }

    public func stepLoss(_ statistics: [Float]) -> Double {
        statistics[1] > 0 ? -Double(statistics[0]) / Double(statistics[1]) : 0
    }

    public func trainingMetrics(steps: [[Float]]) -> [(key: String, value: Double)] {
        let loss = steps.map(stepLoss).reduce(0, +) / Double(max(steps.count, 1))
        let tokens = steps.reduce(0.0) { $0 + Double($1[2]) }
        return [("loss", loss), ("scored_tokens", tokens)]
    }

    public func evaluationMetrics(_ sum: [Double]) -> [(key: String, value: Double)] {
        [("eval_loss", sum.count == 3 && sum[1] > 0 ? -sum[0] / sum[1] : 0)]
    }
}
