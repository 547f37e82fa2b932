import Foundation
import SwiftTuneGeneration
import SwiftTuneHub
import SwiftTuneTensor

/// The model a server answers with: the loaded `Inference` (tokenizer, template, default config), the continuous
/// batching scheduler that owns its engine, and the names clients use.
public final class ServedModel: Sendable {
    public let inference: Inference
    public let scheduler: BatchScheduler
    /// The `model` of requests for the base model (with `--adapters PATH`, if given, applied): `--served_model_name`,
    /// else the model folder's name or the GGUF file's name without `.gguf`.
    public let name: String
    /// The named adapters, each also a `model` (sorted).
    public let adapterNames: [String]
    /// When the model was loaded (`created` in `/v1/models`, seconds since 1970).
    public let created: Int

    /// Serves `inference`, whose engine the scheduler takes over.
    public init(inference: Inference, name: String, scheduler options: SchedulerOptions = SchedulerOptions()) {
        self.inference = inference
        self.name = name
        scheduler = BatchScheduler(engine: inference.engine, options: options)
        adapterNames = scheduler.adapterNames
        created = Int(Date().timeIntervalSince1970)
    }

    /// Loads the model of `options` on `backend`: `--model` (an HF folder or a GGUF file, through `LocalModel`),
    /// or the base model named by the `args.json` of the run that `--adapters PATH` comes from.
    public static func load(_ options: ServeOptions, backend: any Backend,
                            message: (String) -> Void = { _ in }) throws -> ServedModel {
        let run = try options.inference.adapter.flatMap { try Inference.runArguments(forAdapter: $0) }
        let path: URL
        if let model = options.inference.model {
            path = model
        } else if let run {
            path = try run.modelFolder()
        } else if let adapter = options.inference.adapter {
            throw GenerationError.modelNotFound(
                reason: "\(adapter.path) has no args.json (looked there and in its parent folder), so its base model is unknown",
                hint: "pass --model with the base model")
        } else {
            throw GenerationError.modelNotFound(reason: "no model given",
                                                hint: "pass --model, or --adapters with a checkpoint of a swift-tune run")
        }
        let loaded = try LocalModel.load(path: path, backend: backend)
        let defaults = loaded.format == .huggingFace ? try GenerationDefaults(directory: loaded.source) : GenerationDefaults()
        let inference = try Inference.assemble(model: loaded.model, tokenizer: loaded.tokenizer, modelName: loaded.name,
                                               source: loaded.source, defaults: defaults, runArguments: run,
                                               options: options.inference)
        // Clients name the model by its folder or file (`general.name` of a GGUF file may hold spaces).
        let name = options.servedModelName
            ?? (loaded.format == .gguf ? loaded.source.deletingPathExtension().lastPathComponent : loaded.source.lastPathComponent)
        let adapters = options.inference.namedAdapters.keys.sorted()
        message("model: \(loaded.source.path) (\(loaded.format.rawValue), \(loaded.model.config.modelType.rawValue), "
            + "\(loaded.model.config.numHiddenLayers) layers) served as \"\(name)\""
            + (options.inference.adapter.map { "; adapter for every request: \($0.path)" } ?? "")
            + (adapters.isEmpty ? "" : "; adapters: \(adapters.joined(separator: ", "))")
            + "; template: \(inference.templateName); context: \(inference.engine.maxModelLength) tokens; "
            + "max batch: \(inference.engine.maxBatchSize); backend: \(backend.name)")
        return ServedModel(inference: inference, name: name, scheduler: options.scheduler)
    }

    /// Every `model` a request may name: the base model, then the adapters.
    public var modelIDs: [String] { [name] + adapterNames }

    /// The adapter a request's `model` selects (nil: the base model); 404 for a name not served.
    public func adapter(forModel model: String) throws(OpenAIError) -> String? {
        if model == name { return nil }
        if adapterNames.contains(model) { return model }
        throw .unknownModel(model, available: modelIDs)
    }
}
