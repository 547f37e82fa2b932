import SwiftTuneModels
import SwiftTuneTensor

/// Supervised fine-tuning and pre-training: the mean cross-entropy of the answer tokens, normalised as
/// transformers ≥ 4.46 does with gradient accumulation (`num_items_in_batch`): every micro-batch's summed token
/// losses are divided by the scored tokens of the whole accumulated batch.
///
/// Statistics: f32 `[3]` = Σ −log p(target), scored tokens, tokens whose argmax was the target.
public final class SFTObjective: TrainingObjective {
    public let train: [TrainingExample]
    public let validation: [TrainingExample]

    /// - Throws: `noTrainableTokens` when no training example has a token that carries a loss.
    public init(train: [TrainingExample], validation: [TrainingExample] = [], datasetName: String = "the training set") throws {
        guard !train.isEmpty else { throw TrainingError.noTrainableTokens(dataset: "\(datasetName) (it is empty)") }
        guard train.contains(where: { $0.labels.contains { $0.contains { $0 != TokenBatch.ignoreIndex } } }) else {
            throw TrainingError.noTrainableTokens(dataset: datasetName)
        }
        self.train = train
        self.validation = validation
    }

    public var trainCount: Int { train.count }
    public var validationCount: Int { validation.count }

    public func tokenCount(train indices: [Int]) -> Int { indices.reduce(0) { $0 + train[$1].tokenCount } }

    public func accumulateGradients(model: DecoderModel, microBatches: [[Int]], step: Int, runSeed: UInt64) throws -> Tensor {
        let batches = try microBatches.map { indices in try TokenBatch(examples: indices.map { train[$0] }) }
        return try Self.accumulateGradients(model: model, batches: batches, step: step, dropoutRun: runSeed)
    }

    /// The SFT gradient of one optimizer step over packed micro-batches: each micro-batch's loss is
    /// `Σ token losses / N`, `N` the scored tokens of all of them, so the accumulated gradient is that of the mean.
    /// Returns the summed statistics f32 `[3]` (on the device).
    ///
    /// - Parameter dropoutRun: the run's seed for LoRA dropout masks (`DropoutMask.stepSeed`); nil draws none.
    public static func accumulateGradients(model: DecoderModel, batches: [TokenBatch], step: Int,
                                           dropoutRun: UInt64?) throws -> Tensor {
        let backend = model.backend
        let uploaded = try batches.map { batch in
            try batch.validate(vocabularySize: model.config.vocabSize)
            return try batch.upload(to: backend)
        }
        let scored = uploaded.reduce(0) { $0 + $1.scoredTokenCount }
        let gradient = LogProbabilityGradient(gradientScale: 1 / Float(max(scored, 1)))
        let statistics = try backend.zeros([3], dtype: .f32)
        for (micro, batch) in uploaded.enumerated() {
            let seed = dropoutRun.map { DropoutMask.stepSeed(run: $0, step: step, microBatch: micro) }
            let output = try model.backward(model.forward(batch, dropoutSeed: seed), gradient: gradient)
            try backend.add(statistics, output.stats, scale: 1, into: statistics)
        }
        return statistics
    }

    public func evaluate(model: DecoderModel, validation indices: [Int]) throws -> Tensor {
        let batch = try TokenBatch(examples: indices.map { validation[$0] })
        try batch.validate(vocabularySize: model.config.vocabSize)
        return try model.loss(batch.upload(to: model.backend)).stats
    }

    public func stepLoss(_ statistics: [Float]) -> Double {
        statistics[1] > 0 ? Double(statistics[0]) / Double(statistics[1]) : 0
    }

    public func trainingMetrics(steps: [[Float]]) -> [(key: String, value: Double)] {
        let loss = steps.map(stepLoss).reduce(0, +) / Double(max(steps.count, 1))
        let (correct, scored) = steps.reduce((0.0, 0.0)) { ($0.0 + Double($1[2]), $0.1 + Double($1[1])) }
        return [("loss", loss), ("token_acc", scored > 0 ? correct / scored : 0)]
    }

    public func evaluationMetrics(_ sum: [Double]) -> [(key: String, value: Double)] {
        let count = sum.count == 3 ? sum[1] : 0
        return [("eval_loss", count > 0 ? sum[0] / count : 0), ("eval_token_acc", count > 0 ? sum[2] / count : 0)]
    }
}
