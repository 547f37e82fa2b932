import Foundation
import SwiftTuneServer

/// What the Chat tab's model is doing: `GET /api/chat/status`, so the page can say that a load failed and why
/// instead of waiting for a model that never comes.
public final class ChatModelSlot: @unchecked Sendable {
    public struct State: Sendable, Equatable, Codable {
        /// `idle`, `loading`, `ready` or `failed`.
        public var status: String
        public var model: String?
        /// Why the last load failed.
        public var error: String?
    }

    let engine: ServingEngine
    private var state: State
    private let lock = NSLock()

    init(engine: ServingEngine) {
        self.engine = engine
        state = State(status: (try? engine.model()) != nil ? "ready" : "idle", model: (try? engine.model())?.name)
    }

    public var current: State { lock.withLock { state } }

    /// Loads on its own thread (model loading is synchronous and long); the model before it keeps answering.
    func load(_ name: String, _ work: @escaping @Sendable () throws -> ServedModel) {
        lock.withLock { state = State(status: "loading", model: name) }
        Thread.detachNewThread { [self] in
            do {
                let served = try work()
                engine.ready(served)
                lock.withLock { state = State(status: "ready", model: served.name) }
            } catch {
                lock.withLock { state = State(status: "failed", model: name, error: "\(error)") }
            }
        }
    }
}
