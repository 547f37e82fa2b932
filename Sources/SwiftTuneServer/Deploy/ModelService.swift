import Foundation
import Logging
import ServiceLifecycle

/// Loads the model, serves it until graceful shutdown (logging throughput), then drains the scheduler.
struct ModelService: Service {
    let engine: ServingEngine
    let configuration: ServerConfiguration
    let logger: Logger
    let load: @Sendable () throws -> ServedModel

    func run() async throws {
        let started = ContinuousClock.now
        let model: ServedModel
        do {
            model = try await cancelWhenGracefulShutdown { try await Self.onThread(load) }
        } catch is CancellationError {
            logger.info("stopped while the model was loading")
            await engine.shutdown(gracePeriod: .zero)
            return
        }
        engine.ready(model)
        let seconds = Double((ContinuousClock.now - started).components.seconds)
        logger.info("ready in \(String(format: "%.0f", seconds)) s: serving \(model.modelIDs.joined(separator: ", "))")
        let throughput = Task { [configuration, logger] in
            guard configuration.logInterval > 0 else { return }
            var log = ThroughputLog()
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(configuration.logInterval))
                if Task.isCancelled { break }
                logger.info("\(log.line(model.scheduler.currentStatistics))")
            }
        }
        defer { throughput.cancel() }
        do {
            try await gracefulShutdown()
            logger.info("shutting down: finishing requests in flight (up to \(configuration.shutdownGracePeriod))")
            await engine.shutdown(gracePeriod: configuration.shutdownGracePeriod)
        } catch {
            await engine.shutdown(gracePeriod: .zero)
        }
        let statistics = model.scheduler.currentStatistics
        let summary = "\(statistics.finished) requests finished, \(statistics.cancelled) cancelled, "
            + "\(statistics.failed) failed, \(statistics.rejected) refused"
        logger.info("stopped: \(summary)")
    }

    /// Runs synchronous work (model loading) on its own thread, keeping the concurrency pool free. Cancelling
    /// the caller returns at once with `CancellationError` (the thread's result is then dropped).
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let outcome = OneShot<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.wait(continuation)
                let thread = Thread { outcome.resolve(Result { try work() }) }
                thread.name = "swift-tune model loader"
                thread.start()
            }
        } onCancel: {
            outcome.resolve(.failure(CancellationError()))
        }
    }
}

/// A continuation resumed by whichever comes first, the work or the cancellation.
final class OneShot<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var early: Result<T, any Error>?
    private var resolved = false

    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        lock.lock()
        if let early {
            lock.unlock()
            continuation.resume(with: early)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    func resolve(_ result: Result<T, any Error>) {
        lock.lock()
        guard !resolved else { return lock.unlock() }
        resolved = true
        guard let continuation else {
            early = result
            return lock.unlock()
        }
        self.continuation = nil
        lock.unlock()
        continuation.resume(with: result)
    }
}
