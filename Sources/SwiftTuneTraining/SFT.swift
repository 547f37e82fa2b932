import Foundation
import SwiftTuneAdapters
import SwiftTuneChat
import SwiftTuneCheckpoint
import SwiftTuneData
import SwiftTuneHub
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneRunFiles
import SwiftTuneTensor
import SwiftTuneTokenizers

/// Everything `swift-tune sft` / `pt` resolved from its flags: the library form of ms-swift's `TrainArguments`.
public struct SFTOptions: Sendable {
    public enum TrainType: String, Sendable, CaseIterable { case lora, full }

    /// A local model: an HF folder (`config.json`, safetensors, `tokenizer.json`) or a GGUF file.
    public var model: URL
    public var trainType: TrainType = .lora
    public var lora = LoRAConfiguration()
    /// `--adapters`: continue training an existing LoRA adapter (its config replaces the LoRA flags).
    public var adapters: URL?
    public var datasets: [DatasetSpec]
    public var data = DatasetOptions()
    /// `--template`; nil picks the template from the model.
    public var templateName: String?
    public var training = TrainingArguments()
    /// `pt` rather than `sft` (only recorded; `pt`'s defaults are applied by the caller).
    public var isPretraining = false
    /// `--torch_dtype`, recorded in args.json (the CPU backend computes in f32).
    public var torchDtype: String?

    public init(model: URL, datasets: [DatasetSpec]) {
        self.model = model
        self.datasets = datasets
    }
}

/// What `SFT.run` produced.
public struct SFTResult: Sendable {
    public var runFolder: URL
    public var summary: TrainingSummary
    public var datasetReport: DatasetLoadReport
}

/// `sft` and `pt` as a library call: load the model, tokenizer and template, build the datasets, attach LoRA (or
/// train everything), train with checkpoints in ms-swift's run folder layout, and draw the curves.
public enum SFT {
    /// - Parameters:
    ///   - backend: where to compute (the caller picks it; the library never does).
    ///   - message: informational lines (what was loaded, the dataset report), for the caller to show.
    public static func run(_ options: SFTOptions, backend: any Backend, stop: StopSignal? = nil,
                           observer: (any TrainingObserver)? = nil,
                           message: (String) -> Void = { _ in }) throws -> SFTResult {
        // Check everything cheap before the long work.
        try options.training.validate()
        let manager = FileManager.default
        let source: LocalModel.Source
        do { source = try LocalModel.resolve(path: options.model) } catch {
            throw TrainingError.invalidArgument(flag: "model", value: options.model.path,
                                                expected: "an HF model folder (config.json, safetensors, tokenizer.json) or a GGUF file: \(error)")
        }
        if options.trainType == .full, case .gguf = source {
            throw TrainingError.invalidArgument(flag: "train_type", value: "full",
                                                expected: "lora with a GGUF base (full fine-tuning writes HF checkpoints and needs an HF folder)")
        }
        if let resume = options.training.resumeFromCheckpoint, !manager.fileExists(atPath: resume) {
            throw TrainingError.invalidArgument(flag: "resume_from_checkpoint", value: resume, expected: "an existing checkpoint-N folder")
        }
        if options.trainType == .lora, options.lora.rank < 1 {
            throw TrainingError.invalidArgument(flag: "lora_rank", value: "\(options.lora.rank)", expected: "a positive integer")
        }
        let outputDirectory = URL(fileURLWithPath: options.training.outputDir)
        try checkWritable(outputDirectory)

        let loaded = try LocalModel.load(path: options.model, backend: backend)
        let (tokenizer, model) = (loaded.tokenizer, loaded.model)
        let hints = TemplateRegistry.ModelHints(modelType: model.config.modelType.rawValue,
                                                modelName: loaded.name, tokenizer: tokenizer)
        let templateName = TemplateRegistry.templateName(for: hints, override: options.templateName)
        let template = try TemplateRegistry.template(named: templateName)
        message("model: \(options.model.path) (\(model.config.modelType.rawValue), \(model.config.numHiddenLayers) layers, "
            + "vocabulary \(model.config.vocabSize)); template: \(templateName); backend: \(backend.name)")

        let data = try DatasetPipeline.load(options.datasets, options: options.data, tokenizer: tokenizer, template: template)
        message("dataset: \(data.report)")

        let fullFineTuning = options.trainType == .full
        if fullFineTuning {
            try model.setAllTrainable(true)
        } else if let adapters = options.adapters {
            try LoRAAdapter.load(from: adapters, into: model, trainable: true)
        } else {
            _ = try model.attachLoRA(options.lora, seed: options.training.seed, trainable: true)
        }
        if let resume = options.training.resumeFromCheckpoint {
            try loadWeights(from: URL(fileURLWithPath: resume), into: model, fullFineTuning: fullFineTuning)
        }
        let examples = TrainingExample.examples(of: data.train)
        guard try examples.contains(where: { try TokenBatch(examples: [$0]).scoredTokenCount > 0 }) else {
            throw TrainingError.noTrainableTokens(dataset: options.datasets.map(\.raw).joined(separator: " "))
        }
        let trainable = model.trainableParameters.reduce(0) { $0 + $1.value.count }
        let total = model.parameters.reduce(0) { $0 + $1.value.count }
        message(String(format: "trainable parameters: %d of %d (%.4f%%)", trainable, total, 100 * Double(trainable) / Double(max(total, 1))))

        let runFolder = try RunFolder.create(outputDirectory: outputDirectory, addVersion: options.training.addVersion)
        let arguments = try runArguments(options, templateName: templateName, runFolder: runFolder)
        try arguments.write()
        if !data.validationRows.isEmpty {
            try writeJSONLines(data.validationRows, to: runFolder.appendingPathComponent(RunFolder.validationFileName))
        }

        let trainer = try Trainer(
            model: model, train: examples,
            validation: data.validation.map(TrainingExample.examples(of:)) ?? [],
            arguments: options.training, fullFineTuning: fullFineTuning, runFolder: runFolder
        ) { folder in
            try arguments.write(into: folder)
            if fullFineTuning {
                try saveFullModel(model, source: options.model, to: folder)
            } else {
                try LoRAAdapter.save(from: model, to: folder, baseModelNameOrPath: options.model.path)
            }
        }
        if let resume = options.training.resumeFromCheckpoint {
            try trainer.resume(from: URL(fileURLWithPath: resume), onlyModel: options.training.resumeOnlyModel)
            message("resumed from \(resume) at step \(trainer.globalStep) of \(trainer.totalSteps)")
        }
        let summary = try trainer.train(stop: stop, observer: observer)
        try drawCurves(trainer.log, to: runFolder.appendingPathComponent(RunFolder.imagesFolderName))
        return SFTResult(runFolder: runFolder, summary: summary, datasetReport: data.report)
    }

    /// Fails early when `directory` (or the nearest existing folder above it) cannot be written.
    static func checkWritable(_ directory: URL) throws {
        var existing = directory.standardizedFileURL
        while !FileManager.default.fileExists(atPath: existing.path), existing.pathComponents.count > 1 {
            existing.deleteLastPathComponent()
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: existing.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError.unwritableOutput(path: directory.path, reason: "\(existing.path) is not a folder")
        }
        guard FileManager.default.isWritableFile(atPath: existing.path) else {
            throw TrainingError.unwritableOutput(path: directory.path, reason: "\(existing.path) is not writable")
        }
    }

    /// Loads a checkpoint's trainable weights into the model as the flags built it: the adapter tensors for LoRA
    /// (so an adapter of another rank or target set is refused by key and shape), every weight for full fine-tuning.
    static func loadWeights(from checkpoint: URL, into model: DecoderModel, fullFineTuning: Bool) throws {
        let targets: [(key: String, parameter: Parameter)]
        let weights: ModelWeights
        if fullFineTuning {
            weights = try ModelWeights(directory: checkpoint)
            targets = model.parameters.map { ($0.name, $0) }
        } else {
            weights = try ModelWeights(file: checkpoint.appendingPathComponent(LoRAAdapter.weightsFileName))
            targets = try model.adapterParameters().map { (LoRAAdapter.keyPrefix + $0.key, $0.parameter) }
            let expected = Set(targets.map(\.key))
            if let extra = weights.names.first(where: { !expected.contains($0) }) {
                throw TrainingError.checkpointMismatch(
                    path: checkpoint.path, reason: "it has \(extra), which this run's LoRA flags do not create")
            }
        }
        for (key, parameter) in targets {
            guard weights.contains(key) else {
                throw TrainingError.checkpointMismatch(path: checkpoint.path, reason: "no tensor \(key)")
            }
            let value = try weights.tensor(key, on: model.backend, as: .f32)
            guard value.shape == parameter.shape else {
                throw TrainingError.checkpointMismatch(
                    path: checkpoint.path, reason: "\(key) has shape \(value.shape), this run's model has \(parameter.shape)")
            }
            try model.backend.copy(value, to: parameter.value)
        }
    }

    /// A full fine-tuning checkpoint: HF `config.json`, sharded safetensors and the tokenizer files.
    static func saveFullModel(_ model: DecoderModel, source: URL, to folder: URL) throws {
        try SafetensorsWriter.writeSharded(tensors: model.parameters.map { ($0.name, $0.value) }, to: folder,
                                           maxShardBytes: 5_000_000_000)
        for name in ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                     "special_tokens_map.json"] {
            let file = source.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: file.path) {
                try FileManager.default.copyItem(at: file, to: folder.appendingPathComponent(name))
            }
        }
    }

    static func drawCurves(_ log: TrainingLog, to folder: URL) throws {
        var series: [String: [(step: Int, value: Double)]] = [:]
        for record in log.records {
            guard case let .text(progress) = record["global_step/max_steps"],
                  let step = progress.split(separator: "/").first.flatMap({ Int($0) }) else { continue }
            let pairs: [(String, String)] = [("loss", "train_loss"), ("learning_rate", "train_learning_rate"),
                                             ("grad_norm", "train_grad_norm"), ("token_acc", "train_token_acc"),
                                             ("eval_loss", "eval_loss"), ("eval_token_acc", "eval_token_acc")]
            for (key, name) in pairs {
                if let value = record.number(key) { series[name, default: []].append((step, value)) }
            }
        }
        try CurvePlot.write(series: series.keys.sorted().map { ($0, series[$0] ?? []) }, to: folder)
    }

    static func writeJSONLines(_ rows: [DatasetRow], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = ""
        for row in rows { text += String(decoding: try encoder.encode(row), as: UTF8.self) + "\n" }
        try Data(text.utf8).write(to: url, options: .atomic)
    }
}
