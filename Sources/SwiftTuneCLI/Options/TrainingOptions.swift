import ArgumentParser
import SwiftTuneTraining

/// The optimisation and run-folder flags of `sft` and `pt` (ms-swift's names; unset flags keep its defaults).
struct TrainingOptions: ParsableArguments {
    @Option(name: flag("learning_rate"), help: "Peak learning rate (default 1e-4 for LoRA, 1e-5 for full).")
    var learningRate: Double?
    @Option(name: flag("num_train_epochs"), help: "Epochs (default 3).")
    var numTrainEpochs: Double?
    @Option(name: flag("max_steps"), help: "Optimizer steps; overrides the epochs when positive.")
    var maxSteps: Int?
    @Option(name: flag("per_device_train_batch_size"), help: "Rows per micro-batch (default 1).")
    var perDeviceTrainBatchSize: Int?
    @Option(name: flag("per_device_eval_batch_size"), help: "Rows per evaluation batch (default 1).")
    var perDeviceEvalBatchSize: Int?
    @Option(name: flag("gradient_accumulation_steps"), help: "Micro-batches per optimizer step (default: a total batch of 16).")
    var gradientAccumulationSteps: Int?
    @Option(name: flag("weight_decay"), help: "AdamW weight decay on matrices (default 0.1).")
    var weightDecay: Double?
    @Option(name: flag("adam_beta1"), help: "AdamW β1 (default 0.9).")
    var adamBeta1: Double?
    @Option(name: flag("adam_beta2"), help: "AdamW β2 (default 0.95).")
    var adamBeta2: Double?
    @Option(name: flag("adam_epsilon"), help: "AdamW ε (default 1e-8).")
    var adamEpsilon: Double?
    @Option(name: flag("max_grad_norm"), help: "Clip the global gradient norm (default 1; 0 disables).")
    var maxGradNorm: Double?
    @Option(name: flag("lr_scheduler_type"), help: "cosine, linear or constant (default cosine).")
    var lrSchedulerType: String?
    @Option(name: flag("warmup_ratio"), help: "Warmup as a fraction of the steps (default 0).")
    var warmupRatio: Double?
    @Option(name: flag("warmup_steps"), help: "Warmup steps (default 0).")
    var warmupSteps: Int?
    @Option(name: flag("gradient_checkpointing"), help: "Recompute layers in backward to save memory (default true).")
    var gradientCheckpointing: Bool?
    @Option(name: flag("recompute_num_layers"), help: "With gradient checkpointing, recompute only the first N layers; the rest keep their activations: a faster backward for their memory (default: every layer).")
    var recomputeNumLayers: Int?
    @Option(name: flag("eval_steps"), help: "Evaluate every N steps (default: save_steps).")
    var evalSteps: Int?
    @Option(name: flag("save_steps"), help: "Save a checkpoint every N steps (default 500); the last step is always saved.")
    var saveSteps: Int?
    @Option(name: flag("save_total_limit"), help: "Keep at most N checkpoints (the best is kept).")
    var saveTotalLimit: Int?
    @Option(name: flag("logging_steps"), help: "Log every N steps (default 5).")
    var loggingSteps: Int?
    @Option(name: flag("output_dir"), help: "Where run folders go (default output).")
    var outputDir: String?
    @Option(name: flag("add_version"), help: "Put the run in output_dir/vN-YYYYMMDD-HHMMSS (default true).")
    var addVersion: Bool?
    @Option(name: flag("seed"), help: "Seed for initialisation, dropout and the data order (default 42).")
    var seed: UInt64?
    @Option(name: flag("resume_from_checkpoint"), help: "Continue a run from its checkpoint-N folder.")
    var resumeFromCheckpoint: String?
    @Option(name: flag("resume_only_model"), help: "With resume: load the weights only, start a fresh optimizer.")
    var resumeOnlyModel: Bool?

    /// The library's arguments: every flag given here, ms-swift's defaults for the rest.
    func trainingArguments() throws -> TrainingArguments {
        var a = TrainingArguments()
        a.learningRate = learningRate
        if let numTrainEpochs { a.numTrainEpochs = numTrainEpochs }
        if let maxSteps { a.maxSteps = maxSteps }
        if let perDeviceTrainBatchSize { a.perDeviceTrainBatchSize = perDeviceTrainBatchSize }
        if let perDeviceEvalBatchSize { a.perDeviceEvalBatchSize = perDeviceEvalBatchSize }
        a.gradientAccumulationSteps = gradientAccumulationSteps
        if let weightDecay { a.weightDecay = weightDecay }
        if let adamBeta1 { a.adamBeta1 = adamBeta1 }
        if let adamBeta2 { a.adamBeta2 = adamBeta2 }
        if let adamEpsilon { a.adamEpsilon = adamEpsilon }
        if let maxGradNorm { a.maxGradNorm = maxGradNorm }
        if let lrSchedulerType {
            guard let type = TrainingArguments.SchedulerType(rawValue: lrSchedulerType) else {
                throw ValidationError("--lr_scheduler_type \(lrSchedulerType): expected cosine, linear or constant")
            }
            a.lrSchedulerType = type
        }
        if let warmupRatio { a.warmupRatio = warmupRatio }
        if let warmupSteps { a.warmupSteps = warmupSteps }
        if let gradientCheckpointing { a.gradientCheckpointing = gradientCheckpointing }
        if let recomputeNumLayers {
            guard recomputeNumLayers >= 0 else {
                throw ValidationError("--recompute_num_layers \(recomputeNumLayers): expected 0 or more layers to recompute")
            }
            a.recomputeNumLayers = recomputeNumLayers
        }
        a.evalSteps = evalSteps
        if let saveSteps { a.saveSteps = saveSteps }
        a.saveTotalLimit = saveTotalLimit
        if let loggingSteps { a.loggingSteps = loggingSteps }
        if let outputDir { a.outputDir = outputDir }
        if let addVersion { a.addVersion = addVersion }
        if let seed { a.seed = seed }
        a.resumeFromCheckpoint = resumeFromCheckpoint
        if let resumeOnlyModel { a.resumeOnlyModel = resumeOnlyModel }
        try a.validate()
        return a
    }
}
