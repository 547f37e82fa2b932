import SwiftTuneChat
import SwiftTuneModels
import SwiftTuneTensor

/// Reward modelling (`--rlhf_type rm`, TRL 1.16's `RewardTrainer.compute_loss`): the value head's reward `r` at the
/// last token of each whole chosen and rejected sequence (prompt and answer, as the template encodes them), and the
/// Bradley–Terry loss `mean(−log σ(r_chosen − r_rejected))`, plus `c · mean((r_chosen + r_rejected)²)` with
/// `--center_rewards_coefficient c` (Eisenstein et al. 2023, https://arxiv.org/abs/2312.09244).
///
/// A micro-batch packs its chosen sequences, then its rejected ones, into one forward pass; the loss and `dL/dr` are
/// computed on the host and the value head's backward pass hands `dL/dh` at each last token to the trunk. Each
/// micro-batch's loss is the mean over its pairs, divided by the micro-batches of the step.
///
/// Statistics: f32 `[2 + k]` = Σ micro-batch loss / G, micro-batches, then the sum over micro-batches of each of the
/// `metricKeys` (TRL's: `min_reward`, `mean_reward`, `max_reward`, `accuracy`, `margin`, averaged over the calls of a
/// logging interval).
public final class RewardModelObjective: TrainingObjective {
    public let train: [PreferencePair]
    public let validation: [PreferencePair]
    /// `--center_rewards_coefficient`; nil adds no centering term.
    public let centerRewardsCoefficient: Double?
    public static let metricKeys = ["min_reward", "mean_reward", "max_reward", "accuracy", "margin"]

    /// - Throws: when there are no pairs, or when `model` has no value head.
    public init(train: [PreferencePair], validation: [PreferencePair] = [], centerRewardsCoefficient: Double?) throws {
        guard !train.isEmpty else { throw TrainingError.noTrainableTokens(dataset: "the reward-model pairs (there are none)") }
        self.train = train
        self.validation = validation
        self.centerRewardsCoefficient = centerRewardsCoefficient
    }

    public var trainCount: Int { train.count }
    public var validationCount: Int { validation.count }
    public func tokenCount(train indices: [Int]) -> Int { indices.reduce(0) { $0 + train[$1].tokenCount } }

    /// The loss, `dL/dr` per sequence (chosen first) and the metrics of one micro-batch's rewards `[2n]`.
    func loss(_ rewards: [Float]) -> (loss: Double, gradient: [Double], metrics: [Double]) {
        let n = rewards.count / 2
        var loss = 0.0
        var gradient = [Double](repeating: 0, count: 2 * n)
        var correct = 0.0, margin = 0.0
        for i in 0..<n {
            let chosen = Double(rewards[i]), rejected = Double(rewards[n + i])
            let term = -DualMath.logSigmoid(Dual(chosen, d: 1) - Dual(rejected, r: 1)) / Double(n)
            var value = term
            if let c = centerRewardsCoefficient {
                value = value + c * DualMath.square(Dual(chosen, d: 1) + Dual(rejected, r: 1)) / Double(n)
            }
            loss += value.value
            gradient[i] = value.d
            gradient[n + i] = value.r
            if chosen > rejected { correct += 1 }
            margin += chosen - rejected
        }
        let all = rewards.map(Double.init)
        let metrics = [all.min() ?? 0, all.reduce(0, +) / Double(max(all.count, 1)), all.max() ?? 0,
                       correct / Double(max(n, 1)), margin / Double(max(n, 1))]
        return (loss, gradient, metrics)
    }

    private static func batch(_ pairs: [PreferencePair]) throws -> TokenBatch {
        let samples = pairs.map(\.chosen) + pairs.map(\.rejected)
        return try TokenBatch(sequences: samples.map(\.inputIDs))
    }

    public func accumulateGradients(model: DecoderModel, microBatches: [[Int]], step: Int, runSeed: UInt64) throws -> Tensor {
        var totals = [Double](repeating: 0, count: 2 + Self.metricKeys.count)
        let scale = 1 / Double(max(microBatches.count, 1))
        for (micro, indices) in microBatches.enumerated() {
            let batch = try Self.batch(indices.map { train[$0] })
            try batch.validate(vocabularySize: model.config.vocabSize)
            let seed = DropoutMask.stepSeed(run: runSeed, step: step, microBatch: micro)
            let pass = try model.forward(batch.upload(to: model.backend), dropoutSeed: seed)
            let scores = try model.valueHeadScores(pass, sequenceStarts: batch.sequenceStarts)
            let (loss, gradient, metrics) = self.loss(scores.rewards)
            totals[0] += loss * scale
            totals[1] += 1
            for (i, value) in metrics.enumerated() { totals[2 + i] += value }
            try model.valueHeadBackward(pass, scores: scores, gradient: gradient.map { Float($0 * scale) })
        }
        return try model.backend.tensor(totals.map { Float($0) }, shape: [totals.count], dtype: .f32)
    }

    public func evaluate(model: DecoderModel, validation indices: [Int]) throws -> Tensor {
        let rewards = try model.rewards(Self.batch(indices.map { validation[$0] }))
        let (loss, _, metrics) = self.loss(rewards)
        let totals = [loss, 1] + metrics
        return try model.backend.tensor(totals.map { Float($0) }, shape: [totals.count], dtype: .f32)
    }

    public func stepLoss(_ statistics: [Float]) -> Double { Double(statistics[0]) }

    public func trainingMetrics(steps: [[Float]]) -> [(key: String, value: Double)] {
        let loss = steps.map(stepLoss).reduce(0, +) / Double(max(steps.count, 1))
        let calls = steps.reduce(0.0) { $0 + Double($1[1]) }
        return [("loss", loss)] + Self.metricKeys.enumerated().map { i, key in
            (key, calls > 0 ? steps.reduce(0.0) { $0 + Double($1[2 + i]) } / calls : 0)
        }
    }

    public func evaluationMetrics(_ sum: [Double]) -> [(key: String, value: Double)] {
        guard sum.count == 2 + Self.metricKeys.count, sum[1] > 0 else { return [("eval_loss", 0)] }
        return [("eval_loss", sum[0] / sum[1])] + Self.metricKeys.enumerated().map { i, key in ("eval_" + key, sum[2 + i] / sum[1]) }
    }
}
