import Foundation

/// A test hook of `BatchScheduler`: the scheduler thread passes the gate before each pass of its loop (take in new
/// and cancelled requests, fill the batch, one step), so a test decides how far generation gets between its own
/// actions, whatever the machine's load. Closed gates hold the thread; `open()` lets it run freely.
final class StepGate: @unchecked Sendable {
    private let condition = NSCondition()
    /// Passes left; nil: open.
    private var permits: Int?

    /// A gate with `permits` passes (nil: open).
    init(permits: Int? = 0) {
        self.permits = permits
    }

    /// Lets `count` more passes through.
    func allow(_ count: Int = 1) {
        condition.lock()
        if let left = permits { permits = left + count }
        condition.broadcast()
        condition.unlock()
    }

    /// Lets every pass through from now on.
    func open() {
        condition.lock()
        permits = nil
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for a permit (the scheduler thread).
    func pass() {
        condition.lock()
        while permits == 0 { condition.wait() }
        if let left = permits { permits = left - 1 }
        condition.unlock()
    }
}
