import SwiftTuneModels
import SwiftTuneTensor

/// What a trainer optimises: SFT's cross-entropy today; DPO, KTO, ORPO, GRPO… as further objectives over the same
/// model seam (`DecoderModel.forward`, `tokenLogProbabilities`, `backward` with per-token weights).
///
/// The trainer owns everything an objective does not: the seeded data order (over item indices), gradient
/// accumulation, clipping, AdamW and its schedule, logging, evaluation scheduling, checkpoints and resume. An objective
/// owns its items (rows, packed bins, preference pairs), how a micro-batch of them becomes forward and backward passes,
/// and what its statistics mean. Statistics stay on the device (an f32 tensor in the objective's own layout) until the
/// trainer reads them at a logging step, so a step forces no host read of its own.
public protocol TrainingObjective: AnyObject {
    /// The number of training items.
    var trainCount: Int { get }
    /// The number of validation items (0: no evaluation).
    var validationCount: Int { get }
    /// Tokens in training items `indices`, for the throughput figures.
    func tokenCount(train indices: [Int]) -> Int
    /// Forward and backward passes over one optimizer step's micro-batches (each a list of training item indices):
    /// accumulates the gradient of the step's loss into every trainable parameter and returns the step's statistics
    /// (f32 `[k]`, on the device).
    ///
    /// - Parameters:
    ///   - step: optimizer steps already taken (the dropout seeds derive from it).
    ///   - runSeed: the run's `--seed`.
    func accumulateGradients(model: DecoderModel, microBatches: [[Int]], step: Int, runSeed: UInt64) throws -> Tensor
    /// The statistics (same layout as `accumulateGradients`') of validation items `indices`, without gradients; the
    /// trainer adds them up over the validation set.
    func evaluate(model: DecoderModel, validation indices: [Int]) throws -> Tensor
    /// The loss of one step from its statistics (the mean of these is `train_loss`).
    func stepLoss(_ statistics: [Float]) -> Double
    /// The `logging.jsonl` fields of a logging interval from the statistics of each of its steps, `loss` first
    /// (as ms-swift and TRL name them: `loss`, `token_acc`; `rewards/chosen`, …).
    func trainingMetrics(steps: [[Float]]) -> [(key: String, value: Double)]
    /// The evaluation fields from the validation set's summed statistics, `eval_loss` first.
    func evaluationMetrics(_ sum: [Double]) -> [(key: String, value: Double)]
}
