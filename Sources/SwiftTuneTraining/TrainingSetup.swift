import Foundation
import SwiftTuneAdapters
import SwiftTuneChat
import SwiftTuneCheckpoint
import SwiftTuneData
import SwiftTuneHub
import SwiftTuneJSON
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneRunFiles
import SwiftTuneTensor
import SwiftTuneTokenizers

/// What every training command shares before and after its objective (`sft`, `pt`, and `rlhf` next): the flags
/// checked, the model, tokenizer and chat template loaded, LoRA attached (or everything trainable), a checkpoint's
/// weights loaded for `--resume_from_checkpoint`; then the run folder with `args.json`, the trainer, resume, the run and
/// its curves. A command adds only its datasets and its objective.
///
/// ```swift
/// let setup = try TrainingSetup(options, backend: backend)
/// let data = try DatasetPipeline.load(options.datasets, options: options.data, tokenizer: setup.tokenizer,
///                                     template: setup.template)
/// let objective = try SFTObjective(train: TrainingExample.examples(of: data.train))
/// let (runFolder, summary) = try setup.train(objective, validationRows: data.validationRows)
/// ```
public final class TrainingSetup {
    public let options: SFTOptions
    public let model: DecoderModel
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    /// The template's registry name, recorded in `args.json`.
    public let templateName: String
    public var fullFineTuning: Bool { options.trainType == .full }

    /// Checks the flags, loads the model and its template, and makes the trainable parameters (full, an existing
    /// adapter, or a new LoRA); with `--resume_from_checkpoint`, loads that checkpoint's trainable weights.
    ///
    /// - Parameter message: informational lines for the caller to show.
    public init(_ options: SFTOptions, backend: any Backend, message: (String) -> Void = { _ in }) throws {
        // Check everything cheap before the long work.
        try options.training.validate()
        let source: LocalModel.Source
        do { source = try LocalModel.resolve(path: options.model) } catch {
            throw TrainingError.invalidArgument(flag: "model", value: options.model.path,
                                                expected: "an HF model folder (config.json, safetensors, tokenizer.json) or a GGUF file: \(error)")
        }
        if options.trainType == .full, case .gguf = source {
            throw TrainingError.invalidArgument(flag: "train_type", value: "full",
                                                expected: "lora with a GGUF base (full fine-tuning writes HF checkpoints and needs an HF folder)")
        }
        if let fourBit = options.fourBit {
            if options.trainType == .full {
                throw TrainingError.invalidArgument(flag: "train_type", value: "full",
                                                    expected: "lora or qlora with a 4-bit base (\(fourBit.quantType) weights are frozen; "
                                                        + "full fine-tuning needs dense ones)")
            }
            if case .gguf = source {
                throw TrainingError.invalidArgument(flag: "quant_method", value: "bnb",
                                                    expected: "an HF folder to quantize (a GGUF base is already quantized: "
                                                        + "drop --quant_bits / --train_type qlora and train LoRA on it)")
            }
        }
        if options.offloadEmbedding {
            if options.trainType == .full || options.lora.modulesToSave.contains("embed_tokens") {
                throw TrainingError.invalidArgument(flag: "offload_embedding", value: "true",
                                                    expected: "a frozen embedding table (LoRA or QLoRA without embed_tokens in "
                                                        + "--modules_to_save): a trained table stays on the device")
            }
            if case .gguf = source {
                throw TrainingError.invalidArgument(flag: "offload_embedding", value: "true",
                                                    expected: "an HF model folder (a GGUF base keeps its table as stored)")
            }
        }
        if let resume = options.training.resumeFromCheckpoint, !FileManager.default.fileExists(atPath: resume) {
            throw TrainingError.invalidArgument(flag: "resume_from_checkpoint", value: resume, expected: "an existing checkpoint-N folder")
        }
        if options.trainType == .lora, options.lora.rank < 1 {
            throw TrainingError.invalidArgument(flag: "lora_rank", value: "\(options.lora.rank)", expected: "a positive integer")
        }
        try Self.checkWritable(URL(fileURLWithPath: options.training.outputDir))
        let precision = try Self.precision(torchDtype: options.torchDtype, backend: backend)
        var options = options
        options.torchDtype = precision.torchDtype

        let loaded = try LocalModel.load(path: options.model, backend: backend, precision: precision,
                                         fourBit: options.fourBit, offloadEmbedding: options.offloadEmbedding)
        let hints = TemplateRegistry.ModelHints(modelType: loaded.model.config.modelType.rawValue,
                                                modelName: loaded.name, tokenizer: loaded.tokenizer)
        templateName = TemplateRegistry.templateName(for: hints, override: options.templateName)
        template = try TemplateRegistry.template(named: templateName)
        let config = loaded.model.config
        // ms-swift's default max_length: the model's context.
        if options.data.maxLength == nil { options.data.maxLength = config.maxPositionEmbeddings }
        self.options = options
        model = loaded.model
        tokenizer = loaded.tokenizer
        message("model: \(options.model.path) (\(config.modelType.rawValue), \(config.numHiddenLayers) layers, "
            + "vocabulary \(config.vocabSize), context \(config.maxPositionEmbeddings)); template: \(templateName); "
            + "backend: \(backend.name); precision: \(precision.torchDtype) (\(Self.describe(precision, on: backend))); "
            + (options.fourBit.map { "quantization: \($0) (linear weights, as loaded); " } ?? "")
            + "max_length: \(options.data.maxLength.map(String.init) ?? "none") "
            + "(truncation_strategy \(options.data.truncationStrategy.rawValue))")

        var lora = options.lora
        if options.valueHead {
            try model.attachValueHead(seed: options.training.seed, trainable: false)
            if !lora.modulesToSave.contains("score") { lora.modulesToSave.append("score") }
        }
        if options.trainType == .full {
            try model.setAllTrainable(true)
        } else if let adapters = options.adapters {
            let config = try LoRAAdapter.loadConfig(from: adapters)
            if options.valueHead != (config.taskType == .sequenceClassification) {
                throw TrainingError.invalidArgument(
                    flag: "adapters", value: adapters.path,
                    expected: options.valueHead ? "a reward-model adapter (task_type SEQ_CLS) with --rlhf_type rm"
                        : "a language-model adapter (task_type CAUSAL_LM); this one is a reward model's (SEQ_CLS)")
            }
            try LoRAAdapter.load(from: adapters, into: model, trainable: true)
        } else {
            _ = try model.attachLoRA(lora, seed: options.training.seed, trainable: true)
        }
        if let resume = options.training.resumeFromCheckpoint {
            try Self.loadWeights(from: URL(fileURLWithPath: resume), into: model, fullFineTuning: fullFineTuning)
        }
    }

    /// Trains `objective`: the run folder (`vN-…`) with `args.json` (and `val_dataset.jsonl` when validation rows were
    /// split off), the trainer with its checkpoints, resume, the run, and the curves in `images/`.
    ///
    /// - Parameter extraArguments: the command's own `args.json` entries (`rlhf`'s `rlhf_type`, `beta`, …), replacing
    ///   shared ones of the same name.
    public func train(_ objective: any TrainingObjective, validationRows: [DatasetRow] = [], stop: StopSignal? = nil,
                      observer: (any TrainingObserver)? = nil, extraArguments: [(String, JSONValue)] = [],
                      message: (String) -> Void = { _ in }) throws -> (runFolder: URL, summary: TrainingSummary) {
        let trainable = model.trainableParameters.reduce(0) { $0 + $1.value.count }
        let total = model.parameterCount
        message("trainable parameters: \(trainable) of \(total) ("
            + String(format: "%.4f%%", 100 * Double(trainable) / Double(max(total, 1))) + ")")
        try checkActivationMemory(objective, message: message)

        let runFolder = try RunFolder.create(outputDirectory: URL(fileURLWithPath: options.training.outputDir),
                                             addVersion: options.training.addVersion)
        var arguments = try SFT.runArguments(options, templateName: templateName, runFolder: runFolder)
        for (key, value) in extraArguments { try arguments.set(key, value) }
        arguments.sortKeys()
        try arguments.write()
        if !validationRows.isEmpty {
            try Self.writeJSONLines(validationRows, to: runFolder.appendingPathComponent(RunFolder.validationFileName))
        }
        let (model, options, fullFineTuning) = (self.model, self.options, self.fullFineTuning)
        let trainer = try Trainer(model: model, objective: objective, arguments: options.training,
                                  fullFineTuning: fullFineTuning, runFolder: runFolder) { folder in
            try arguments.write(into: folder)
            if fullFineTuning {
                try Self.saveFullModel(model, source: options.model, to: folder)
            } else {
                try LoRAAdapter.save(from: model, to: folder, baseModelNameOrPath: options.model.path)
            }
        }
        if let resume = options.training.resumeFromCheckpoint {
            try trainer.resume(from: URL(fileURLWithPath: resume), onlyModel: options.training.resumeOnlyModel)
            message("resumed from \(resume) at step \(trainer.globalStep) of \(trainer.totalSteps)")
        }
        let summary = try trainer.train(stop: stop, observer: observer)
        try Self.drawCurves(trainer.log, to: runFolder.appendingPathComponent(RunFolder.imagesFolderName))
        return (runFolder, summary)
    }

    /// Refuses, before the run folder exists, a largest micro-batch (the `per_device_train_batch_size` longest items)
    /// whose activations cannot fit in the free memory.
    func checkActivationMemory(_ objective: any TrainingObjective, message: (String) -> Void) throws {
        let counts = (0..<objective.trainCount).map { objective.tokenCount(train: [$0]) }.sorted(by: >)
        let tokens = counts.prefix(options.training.perDeviceTrainBatchSize).reduce(0, +)
        let estimate = ActivationMemory(config: model.config, tokens: tokens,
                                        gradientCheckpointing: options.training.gradientCheckpointing,
                                        recomputeNumLayers: options.training.recomputeNumLayers,
                                        lossChunkSize: model.lossChunkSize, bytesPerValue: model.precision.compute.byteSize)
        let available = ActivationMemory.availableBytes(for: model.backend)
        message("activation memory of the largest batch: \(estimate)"
            + (available.map { "; free: \(ActivationMemory.format($0))" } ?? "; free memory unknown on \(model.backend.name), not checked"))
        try estimate.check(available: available, device: model.backend.name)
    }
}
