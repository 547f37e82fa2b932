import Foundation
import SwiftTuneCPU
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor
@testable import SwiftTuneTraining

/// What HF Trainer logs for one optimizer step.
struct StepRecord: Equatable {
    /// Mean loss over the scored tokens of the whole accumulated batch.
    var loss: Double
    /// The global gradient norm before clipping.
    var gradNorm: Double
    /// The learning rate the update used.
    var learningRate: Double
}

/// One optimizer step through the library's own step (`TrainingStep.run` with `SFTObjective`'s gradients), the one
/// the trainer takes: HF Trainer's (transformers 5) order, every micro-batch's loss `Σ token losses / N` with `N` the
/// scored tokens of the whole accumulated batch (`num_items_in_batch`), then the global-norm clip, the update with the
/// scheduled rate, zeroed gradients. The LoRA and full fine-tuning goldens (PEFT, torch AdamW) check it.
///
/// - Parameters:
///   - step: optimizer steps already taken (the schedule's `k`).
///   - dropoutRun: the run's seed for LoRA dropout masks; nil draws none.
func trainingStep(model: DecoderModel, optimizer: AdamW, schedule: LearningRateSchedule, microBatches: [TokenBatch],
                  step: Int, maxGradNorm: Double, dropoutRun: UInt64? = nil) throws -> StepRecord {
    let learningRate = schedule.learningRate(afterSteps: step)
    let result = try TrainingStep.run(model: model, optimizer: optimizer, learningRate: learningRate,
                                      maxGradNorm: maxGradNorm) {
        try SFTObjective.accumulateGradients(model: model, batches: microBatches, step: step, dropoutRun: dropoutRun)
    }
    let statistics = try model.backend.floats(result.statistics)
    return StepRecord(loss: Double(statistics[0]) / Double(statistics[1]), gradNorm: try result.gradNorm(),
                      learningRate: learningRate)
}
