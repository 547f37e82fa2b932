import Foundation
import SwiftTuneGeneration

/// The server's model slot and its life: loading (requests get 503), ready, shutting down (503 for new requests
/// while those in flight finish), stopped.
public final class ServingEngine: @unchecked Sendable {
    public enum Phase: Sendable {
        case loading
        case ready(ServedModel)
        case shuttingDown(ServedModel?)
    }

    private let lock = NSLock()
    private var current: Phase

    /// A slot whose model is still loading (`ready(_:)` fills it).
    public init() {
        current = .loading
    }

    /// A slot serving `model` right away (tests, or a model loaded before the server starts).
    public init(model: ServedModel) {
        current = .ready(model)
    }

    public var phase: Phase { lock.withLock { current } }

    /// The model has loaded: requests are answered from now on (ignored once shutting down).
    public func ready(_ model: ServedModel) {
        lock.withLock {
            if case .loading = current { current = .ready(model) }
        }
    }

    /// The model to answer with; 503 while loading or shutting down.
    public func model() throws(OpenAIError) -> ServedModel {
        switch phase {
        case let .ready(model): return model
        case .loading: throw .unavailable("The model is still loading; retry shortly.")
        case .shuttingDown: throw .unavailable("The server is shutting down.")
        }
    }

    /// New requests get 503 from now on; those in flight may run for `gracePeriod`, then are stopped. Returns
    /// when every request has ended.
    public func shutdown(gracePeriod: Duration) async {
        let model = lock.withLock { () -> ServedModel? in
            switch current {
            case let .ready(model):
                current = .shuttingDown(model)
                return model
            case .loading:
                current = .shuttingDown(nil)
                return nil
            case let .shuttingDown(model):
                return model
            }
        }
        await model?.scheduler.shutdown(gracePeriod: gracePeriod)
    }
}
