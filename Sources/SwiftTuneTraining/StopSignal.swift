import Foundation
import Synchronization
import SwiftTuneRunFiles

/// The write end of the installed `StopSignal`'s pipe (-1: none); the only thing the C signal handler touches.
private let signalPipe = Atomic<Int32>(-1)

/// Turns SIGINT and SIGTERM into a stop request the training loop honours at its next safe point (the end of an
/// optimizer step, or before the first one), where it saves a checkpoint and returns.
///
/// A second signal, or no safe point reached within the grace period after the first (a long step, data preparation,
/// tokenization), exits the process at once with status 128 + the signal's number (130 for SIGINT, 143 for SIGTERM)
/// and a message on standard error. The grace period is `graceSeconds` (5 s by default), or 1.5 × the slowest
/// step so far when that is longer, so that a run whose every step is slow still saves at a signal. Checkpoints are
/// written under a temporary name and renamed when complete (`CheckpointStore`), so such an exit leaves the complete
/// checkpoints as they were and no partial one under a final name.
///
/// The handler only writes the signal's number to a pipe; a dedicated thread (not a dispatch queue, which a busy
/// step can starve) reads it, keeps the count and runs the grace timer.
public final class StopSignal: @unchecked Sendable {
    /// The default grace period: a first signal that reaches no safe point within it exits the process.
    public static let defaultGraceSeconds: Double = 5

    public let graceSeconds: Double
    private let state = Mutex<(count: Int, signal: Int32, acknowledged: Bool)>((0, 0, false))
    private let slowestStep = Mutex<Double>(0)
    private var pipe: (read: Int32, write: Int32)?
    private var installed: [Int32] = []
    private let watcherDone = DispatchSemaphore(value: 0)

    /// Installs the handlers (replacing the default terminate action) until `cancel()`. With no `signals`, nothing is
    /// installed and only `receive()` requests a stop (tests).
    public init(signals: [Int32] = [SIGINT, SIGTERM], graceSeconds: Double = StopSignal.defaultGraceSeconds) {
        self.graceSeconds = graceSeconds
        guard !signals.isEmpty else { return }
        var fds: [Int32] = [-1, -1]
        guard Foundation.pipe(&fds) == 0 else { return }
        pipe = (fds[0], fds[1])
        installed = signals
        signalPipe.store(fds[1], ordering: .sequentiallyConsistent)
        for number in signals {
            signal(number) { number in
                var byte = UInt8(truncatingIfNeeded: number)
                let fd = signalPipe.load(ordering: .sequentiallyConsistent)
                if fd >= 0 { _ = write(fd, &byte, 1) }
            }
        }
        let readEnd = fds[0]
        let thread = Thread { [self] in
            // A parent may have spawned us with these signals blocked (threads inherit the mask, e.g. from a dispatch
            // worker); unblocked here, the kernel delivers them to this thread at least.
            var set = sigset_t()
            sigemptyset(&set)
            for number in signals { sigaddset(&set, number) }
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            self.watch(readEnd)
        }
        thread.name = "swift-tune stop signal"
        thread.start()
    }

    /// Records a stop request for `signal`, as a delivered signal does (also for tests); a second one exits.
    public func receive(signal number: Int32 = SIGINT) {
        let count = state.withLock { state -> Int in
            state.count += 1
            if state.count == 1 { state.signal = number }
            return state.count
        }
        if count > 1 { Self.exitNow(signal: number, reason: "a second \(Self.name(number)) arrived") }
        let grace = String(format: "%.3g", currentGrace)
        Self.writeError("\nswift-tune: \(Self.name(number)): stopping at the next safe point and saving a checkpoint "
            + "(exiting without one if none is reached within \(grace) s; send it again to quit now)\n")
    }

    /// Called by the trainer after each step with its duration, which lengthens the grace period for slow steps.
    public func stepFinished(seconds: Double) { slowestStep.withLock { $0 = max($0, seconds) } }

    /// The grace period now: `graceSeconds`, or 1.5 × the slowest step so far when longer.
    public var currentGrace: Double { max(graceSeconds, 1.5 * slowestStep.withLock { $0 }) }

    /// Whether a stop was requested.
    public var isRequested: Bool { state.withLock { $0.count > 0 } }

    /// Called by the trainer when it reaches a safe point with a stop requested: the grace timer stops (the
    /// checkpoint it now saves may take longer); a second signal still exits.
    public func acknowledge() { state.withLock { $0.acknowledged = true } }

    /// Removes the handlers and restores the default actions.
    public func cancel() {
        guard let pipe else { return }
        self.pipe = nil
        for number in installed { signal(number, SIG_DFL) }
        _ = signalPipe.compareExchange(expected: pipe.write, desired: -1, ordering: .sequentiallyConsistent)
        var stop: UInt8 = 0  // wakes the watcher, which then ends
        _ = write(pipe.write, &stop, 1)
        watcherDone.wait()
        close(pipe.write)
        close(pipe.read)
    }

    // MARK: The watcher thread

    private func watch(_ readEnd: Int32) {
        defer { watcherDone.signal() }
        var deadline: Date?
        var grace = graceSeconds
        while true {
            let timeout = deadline.map { max(0, Int32(($0.timeIntervalSinceNow * 1000).rounded(.up))) } ?? -1
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeout)
            if ready < 0 { if errno == EINTR { continue } else { return } }
            if ready == 0 {
                let (acknowledged, number) = state.withLock { ($0.acknowledged, $0.signal) }
                if !acknowledged {
                    Self.exitNow(signal: number, reason: "no safe point was reached within "
                        + String(format: "%.3g", grace) + " s of \(Self.name(number))")
                }
                deadline = nil
                continue
            }
            var byte: UInt8 = 0
            guard read(readEnd, &byte, 1) == 1, byte != 0 else { return }
            receive(signal: Int32(byte))
            if deadline == nil && !state.withLock({ $0.acknowledged }) {
                grace = currentGrace
                deadline = Date().addingTimeInterval(grace)
            }
        }
    }

    /// Exits the process now with status 128 + `signal`, after any checkpoint rename in flight.
    static func exitNow(signal number: Int32, reason: String) -> Never {
        writeError("\nswift-tune: \(reason): exiting now without saving (complete checkpoints are kept; "
            + "resume with --resume_from_checkpoint)\n")
        fflush(nil)  // every stdio stream (what was printed before the exit)
        ExitGuard.exit(status: 128 + (number > 0 ? number : SIGINT))
    }

    private static func writeError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(STDERR_FILENO, &bytes, bytes.count)
    }

    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(number)"
        }
    }
}
