import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `swift-tune deploy` as a library call: listen at once (503 while the model loads), load the model on its own
/// thread, log throughput, and on SIGTERM or SIGINT shut down gracefully: new requests get 503, those in flight
/// finish within `shutdownGracePeriod` (then are stopped), the listener closes, `run` returns.
public enum DeployServer {
    /// Serves until a signal. `load` runs on a separate thread; its error ends the server (and is thrown).
    /// `onServerRunning` receives the listening channel.
    public static func run(configuration: ServerConfiguration, logger: Logger = Logger(label: "swift-tune.deploy"),
                           onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in },
                           load: @escaping @Sendable () throws -> ServedModel) async throws {
        let engine = ServingEngine()
        let app = buildApplication(configuration: configuration, engine: engine, logger: logger,
                                   onServerRunning: onServerRunning)
        let model = ModelService(engine: engine, configuration: configuration, logger: logger, load: load)
        // Graceful shutdown runs in reverse order: the model service drains first while the listener still
        // answers (503 to new requests), then the listener stops.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: model)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
