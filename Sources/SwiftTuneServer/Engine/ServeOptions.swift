import Foundation
import SwiftTuneEngine
import SwiftTuneGeneration

/// What `swift-tune deploy` serves: the model (an HF folder or a GGUF file), its adapters, template, engine sizes
/// and the name clients ask for.
public struct ServeOptions: Sendable {
    /// The model, `--adapters PATH` (applied to every request; its run's `args.json` may name the model), named
    /// adapters (`--adapters NAME=PATH`, picked by a request's `model`), template, system, engine sizes and the
    /// default sampling.
    public var inference: InferenceOptions
    /// `--served_model_name`: the `model` clients send for the base model; nil: the folder's or file's name.
    public var servedModelName: String?
    /// Requests that may wait for a place in the batch (more: 429).
    public var scheduler: SchedulerOptions

    public init(inference: InferenceOptions, servedModelName: String? = nil, scheduler: SchedulerOptions = SchedulerOptions()) {
        self.inference = inference
        self.servedModelName = servedModelName
        self.scheduler = scheduler
    }
}
