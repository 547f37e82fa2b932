import Foundation
import SwiftTuneEngine
import SwiftTuneGeneration
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
    public convenience init(inference: Inference, name: String, scheduler options: SchedulerOptions = SchedulerOptions()) {
        self.init(inference: inference, name: name, scheduler: BatchScheduler(engine: inference.engine, options: options))
    }

    /// Serves `inference` with a scheduler already made over its engine (tests hold it with a gate).
    init(inference: Inference, name: String, scheduler: BatchScheduler) {
        self.inference = inference
        self.name = name
        self.scheduler = scheduler
        adapterNames = scheduler.adapterNames
        created = Int(Date().timeIntervalSince1970)
    }

    /// Loads the model of `options` on `backend` as `infer` does (`Inference.load`: an HF folder or a GGUF file, or
    /// the base model named by the `args.json` of the run that `--adapters PATH` comes from) and starts serving it.
    /// `message` receives what was loaded.
    public static func load(_ options: ServeOptions, backend: any Backend,
                            message: (String) -> Void = { _ in }) throws -> ServedModel {
        let inference = try Inference.load(options.inference, backend: backend, message: message)
        // Clients name the model by its folder or file (`general.name` of a GGUF file may hold spaces).
        let source = inference.modelFolder
        let name = options.servedModelName
            ?? (source.pathExtension.lowercased() == "gguf" ? source.deletingPathExtension().lastPathComponent
                : source.lastPathComponent)
        let model = ServedModel(inference: inference, name: name, scheduler: options.scheduler)
        message("serving \(model.modelIDs.map { "\"\($0)\"" }.joined(separator: ", ")); context: "
            + "\(inference.engine.maxModelLength) tokens; max batch: \(inference.engine.maxBatchSize); "
            + "queue: \(options.scheduler.queueLimit)")
        return model
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
