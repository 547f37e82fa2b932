import Foundation

/// The optimisation and bookkeeping flags of `sft` and `pt`, named and defaulted as ms-swift's
/// (`swift/llm/argument/train_args.py` over HF `TrainingArguments`).
public struct TrainingArguments: Sendable, Codable, Equatable {
    public enum SchedulerType: String, Sendable, Codable, CaseIterable { case cosine, linear, constant }

    /// `--learning_rate`; nil → 1e-4 for LoRA, 1e-5 for full fine-tuning (ms-swift).
    public var learningRate: Double?
    public var numTrainEpochs: Double = 3
    /// `--max_steps`: when positive, overrides the epochs.
    public var maxSteps: Int = -1
    public var perDeviceTrainBatchSize: Int = 1
    public var perDeviceEvalBatchSize: Int = 1
    /// `--gradient_accumulation_steps`; nil → ceil(16 / per_device_train_batch_size) (ms-swift).
    public var gradientAccumulationSteps: Int?
    public var weightDecay: Double = 0.1
    public var adamBeta1: Double = 0.9
    public var adamBeta2: Double = 0.95
    public var adamEpsilon: Double = 1e-8
    public var maxGradNorm: Double = 1
    public var lrSchedulerType: SchedulerType = .cosine
    public var warmupRatio: Double = 0
    public var warmupSteps: Int = 0
    public var gradientCheckpointing: Bool = true
    /// `--recompute_num_layers`: with gradient checkpointing, only the first N layers are recomputed and the rest keep
    /// their activations (faster, more memory); nil → every layer.
    public var recomputeNumLayers: Int?
    /// `--eval_steps`; nil → `save_steps` (ms-swift).
    public var evalSteps: Int?
    public var saveSteps: Int = 500
    public var saveTotalLimit: Int?
    public var loggingSteps: Int = 5
    public var outputDir: String = "output"
    public var addVersion: Bool = true
    public var seed: UInt64 = 42
    public var resumeFromCheckpoint: String?
    /// `--resume_only_model`: load the weights of the checkpoint but start a fresh optimizer and step count.
    public var resumeOnlyModel: Bool = false

    public init() {}

    /// The learning rate with ms-swift's default for the train type.
    public func resolvedLearningRate(fullFineTuning: Bool) -> Double { learningRate ?? (fullFineTuning ? 1e-5 : 1e-4) }

    /// The accumulation steps with ms-swift's default (a total batch of at least 16 on one device).
    public var resolvedGradientAccumulationSteps: Int {
        gradientAccumulationSteps ?? max(1, Int((16.0 / Double(max(perDeviceTrainBatchSize, 1))).rounded(.up)))
    }

    /// Checks each flag's range and the combinations; throws naming the flag.
    public func validate() throws(TrainingError) {
        func positive(_ value: Int, _ flag: String) throws(TrainingError) {
            guard value > 0 else { throw .invalidArgument(flag: flag, value: "\(value)", expected: "a positive integer") }
        }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
            throw .invalidArgument(flag: "learning_rate", value: "\(learningRate)", expected: "a positive number")
        }
        guard numTrainEpochs > 0 || maxSteps > 0 else {
            throw .invalidArgument(flag: "num_train_epochs", value: "\(numTrainEpochs)",
                                   expected: "a positive number (or a positive --max_steps)")
        }
        try positive(perDeviceTrainBatchSize, "per_device_train_batch_size")
        try positive(perDeviceEvalBatchSize, "per_device_eval_batch_size")
        if let gradientAccumulationSteps { try positive(gradientAccumulationSteps, "gradient_accumulation_steps") }
        try positive(saveSteps, "save_steps")
        try positive(loggingSteps, "logging_steps")
        if let evalSteps { try positive(evalSteps, "eval_steps") }
        if let saveTotalLimit { try positive(saveTotalLimit, "save_total_limit") }
        guard weightDecay >= 0 else {
            throw .invalidArgument(flag: "weight_decay", value: "\(weightDecay)", expected: "a number ≥ 0")
        }
        for (flag, beta) in [("adam_beta1", adamBeta1), ("adam_beta2", adamBeta2)] where !(0..<1).contains(beta) {
            throw .invalidArgument(flag: flag, value: "\(beta)", expected: "a number in [0, 1)")
        }
        guard adamEpsilon > 0 else {
            throw .invalidArgument(flag: "adam_epsilon", value: "\(adamEpsilon)", expected: "a positive number")
        }
        guard maxGradNorm >= 0 else {
            throw .invalidArgument(flag: "max_grad_norm", value: "\(maxGradNorm)", expected: "a number ≥ 0 (0 disables clipping)")
        }
        guard (0...1).contains(warmupRatio) else {
            throw .invalidArgument(flag: "warmup_ratio", value: "\(warmupRatio)", expected: "a number in [0, 1]")
        }
        guard warmupSteps >= 0 else {
            throw .invalidArgument(flag: "warmup_steps", value: "\(warmupSteps)", expected: "an integer ≥ 0")
        }
        if warmupRatio > 0 && warmupSteps > 0 {
            throw .conflictingArguments("warmup_ratio", "warmup_steps", hint: "give one of them")
        }
        if resumeOnlyModel && resumeFromCheckpoint == nil {
            throw .conflictingArguments("resume_only_model", "(no --resume_from_checkpoint)",
                                        hint: "--resume_only_model needs --resume_from_checkpoint DIR")
        }
    }

    /// Optimizer steps for `examples` training examples, as HF Trainer counts them: per epoch,
    /// ceil(batches / accumulation); `max_steps` wins when positive.
    public func totalSteps(examples: Int) -> Int {
        if maxSteps > 0 { return maxSteps }
        let batches = (examples + perDeviceTrainBatchSize - 1) / perDeviceTrainBatchSize
        let perEpoch = max(1, (batches + resolvedGradientAccumulationSteps - 1) / resolvedGradientAccumulationSteps)
        return max(1, Int((Double(perEpoch) * numTrainEpochs).rounded(.up)))
    }

    /// Warmup steps as HF's `get_warmup_steps`: `warmup_steps` if set, else ceil(ratio · total).
    public func resolvedWarmupSteps(totalSteps: Int) -> Int {
        warmupSteps > 0 ? warmupSteps : Int((warmupRatio * Double(totalSteps)).rounded(.up))
    }
}
