import Foundation

/// Runs blocking work (subprocesses, long CPU-bound passes) on a thread of its own, so it does not hold one of
/// Swift Testing's cooperative threads (one per core) that the async tests of other suites need to make progress.
/// The body must not record issues: return what to check.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 16 << 20
        thread.start()
    }
}
