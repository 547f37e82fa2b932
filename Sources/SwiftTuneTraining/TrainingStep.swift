import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor

/// One optimizer step as HF Trainer takes it, the one the trainer runs (and the tests' reference loop calls): the
/// objective's gradients over the step's micro-batches, global-norm clipping (`clip_grad_norm_`, skipped with
/// `maxGradNorm` 0), AdamW with the scheduled learning rate, zeroed gradients.
public enum TrainingStep {
    /// What a step leaves: the objective's statistics (on the device) and the gradient norm before clipping.
    public struct Result: Sendable {
        public var statistics: Tensor
        public var gradNorm: Double
    }

    /// - Parameter accumulateGradients: the objective's forward and backward passes of this step; returns its
    ///   statistics.
    public static func run(model: DecoderModel, optimizer: AdamW, learningRate: Double, maxGradNorm: Double,
                           accumulateGradients: () throws -> Tensor) throws -> Result {
        let statistics = try accumulateGradients()
        let parameters = optimizer.parameters
        let norm = maxGradNorm > 0
            ? try GradientClipping.clip(parameters, maxNorm: maxGradNorm)
            : try GradientClipping.globalNorm(of: parameters)
        try optimizer.step(learningRate: learningRate)
        try optimizer.zeroGradients()
        return Result(statistics: statistics, gradNorm: norm)
    }
}

extension LearningRateSchedule {
    /// The schedule of `arguments` (`--lr_scheduler_type`, `--learning_rate` with ms-swift's default for the train
    /// type, warmup) over `totalSteps`.
    public init(arguments: TrainingArguments, totalSteps: Int, fullFineTuning: Bool) {
        let kind: Kind = switch arguments.lrSchedulerType {
        case .cosine: .cosine
        case .linear: .linear
        case .constant: .constant  // HF's get_scheduler("constant") ignores warmup, as ms-swift passes it
        }
        self.init(kind: kind, baseLearningRate: arguments.resolvedLearningRate(fullFineTuning: fullFineTuning),
                  warmupSteps: arguments.resolvedWarmupSteps(totalSteps: totalSteps), totalSteps: totalSteps)
    }
}
