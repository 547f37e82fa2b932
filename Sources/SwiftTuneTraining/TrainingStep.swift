import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor

/// One optimizer step as HF Trainer takes it, the one the trainer runs (and the tests' reference loop calls): the
/// objective's gradients over the step's micro-batches, global-norm clipping (`clip_grad_norm_`, skipped with
/// `maxGradNorm` 0), AdamW with the scheduled learning rate, zeroed gradients.
///
/// Nothing is read on the host: the clip factor and AdamW's scalars live in device memory
/// (`GradientClipping.clipOnDevice`, `AdamW.step`), so steps queue back to back and the caller reads the statistics
/// and the norm only when it logs.
public enum TrainingStep {
    /// What a step leaves on the device: the objective's statistics and the gradients' squared global norm.
    public struct Result: Sendable {
        public var statistics: Tensor
        /// `Σ g²` before clipping, f32 `[1]`; nil when no parameter had a gradient.
        public var gradientSumOfSquares: Tensor?

        /// The norm before clipping (HF's `grad_norm`), read on the host: one wait for the step's queued work.
        public func gradNorm() throws -> Double {
            guard let squared = gradientSumOfSquares else { return 0 }
            return Double(try squared.backend.floats(squared)[0]).squareRoot()
        }
    }

    /// - Parameter accumulateGradients: the objective's forward and backward passes of this step; returns its
    ///   statistics.
    public static func run(model: DecoderModel, optimizer: AdamW, learningRate: Double, maxGradNorm: Double,
                           accumulateGradients: () throws -> Tensor) throws -> Result {
        let statistics = try accumulateGradients()
        let gradients = optimizer.gradientTensors
        let squared = maxGradNorm > 0
            ? try GradientClipping.clipOnDevice(gradients: gradients, maxNorm: maxGradNorm)?.sumOfSquares
            : try GradientClipping.sumOfSquares(of: gradients)
        try optimizer.step(learningRate: learningRate)
        try optimizer.zeroGradients()
        return Result(statistics: statistics, gradientSumOfSquares: squared)
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
