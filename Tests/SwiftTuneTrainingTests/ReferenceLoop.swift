import Foundation
import SwiftTuneCPU
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor

/// What HF Trainer logs for one optimizer step.
struct StepRecord: Equatable {
    /// Mean loss over the scored tokens of the whole accumulated batch.
    var loss: Double
    /// The global gradient norm before clipping.
    var gradNorm: Double
    /// The learning rate the update used.
    var learningRate: Double
}

/// One optimizer step the way HF Trainer (transformers 5) takes it, written out as the trainer should:
/// every micro-batch's loss is `Σ token losses / N`, with `N` the scored tokens of the whole accumulated batch
/// (`num_items_in_batch`), so the accumulated gradient is that of the mean over the batch; then clip the global
/// norm, update with the scheduled rate, zero the gradients.
///
/// - Parameters:
///   - step: optimizer steps already taken (the schedule's `k`).
///   - dropoutRun: the run's seed for LoRA dropout masks; nil draws none.
func trainingStep(model: DecoderModel, optimizer: AdamW, schedule: LearningRateSchedule, microBatches: [TokenBatch],
                  step: Int, maxGradNorm: Double, dropoutRun: UInt64? = nil) throws -> StepRecord {
    let scored = microBatches.map(\.scoredTokenCount).reduce(0, +)
    var lossSum = 0.0
    for (index, microBatch) in microBatches.enumerated() {
        let seed = dropoutRun.map { DropoutMask.stepSeed(run: $0, step: step, microBatch: index) }
        let output = try model.lossAndGradients(microBatch.upload(to: model.backend), gradientScale: 1 / Float(scored),
                                                dropoutSeed: seed)
        lossSum += Double(try model.backend.floats(output.stats)[0])
    }
    let gradNorm = try GradientClipping.clip(optimizer.parameters, maxNorm: maxGradNorm)
    let learningRate = schedule.learningRate(afterSteps: step)
    try optimizer.step(learningRate: learningRate)
    try optimizer.zeroGradients()
    return StepRecord(loss: lossSum / Double(scored), gradNorm: gradNorm, learningRate: learningRate)
}
