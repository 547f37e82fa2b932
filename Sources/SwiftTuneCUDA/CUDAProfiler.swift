import Foundation
import Synchronization

/// GPU time per kernel and per matrix-product shape, for finding where a training step goes
/// (`SWIFT_TUNE_CUDA_PROFILE=1`; `=PATH` writes the table to PATH instead of standard error).
///
/// Each launch and each cuBLASLt product is bracketed by two timing events on the stream; every 4,096 of them the
/// profiler waits for the last and adds up the elapsed times by name. The events add a few microseconds of host work
/// per launch and change nothing on the GPU, so the table is the GPU's own time; its total next to the wall time says
/// how launch-bound a run is. The table is written when the backend goes away or the process exits.
final class CUDAProfiler: @unchecked Sendable {
    private let context: CUDAContext
    private let destination: String
    private var free: [CUevent] = []
    private var pending: [(name: String, start: CUevent, end: CUevent)] = []
    private var totals: [String: (calls: Int, milliseconds: Double)] = [:]
    private let started = Date()
    private let lock = NSLock()
    private var reported = false

    /// The profiler asked for by `environment`, or nil.
    static func make(context: CUDAContext, environment: [String: String]) -> CUDAProfiler? {
        guard let value = environment["SWIFT_TUNE_CUDA_PROFILE"], !value.isEmpty, value != "0" else { return nil }
        let profiler = CUDAProfiler(context: context, destination: value == "1" ? "" : value)
        active.withLock { $0 = profiler }
        _ = registerExit
        return profiler
    }

    /// The profiler the exit handler reports (the newest backend's).
    private static let active = Mutex<CUDAProfiler?>(nil)
    private static let registerExit: Void = { atexit { CUDAProfiler.active.withLock { $0 }?.report() } }()

    private init(context: CUDAContext, destination: String) {
        self.context = context
        self.destination = destination
    }

    /// Runs `body`, which queues GPU work on the backend's stream, between two timing events filed under `name`.
    func measure(_ name: @autoclosure () -> String, _ body: () throws -> Void) throws {
        let (start, end) = try lock.withLock { (try event(), try event()) }
        _ = context.driver.cuEventRecord(start, context.stream)
        try body()
        _ = context.driver.cuEventRecord(end, context.stream)
        let label = name()
        try lock.withLock {
            pending.append((label, start, end))
            if pending.count >= 4096 { try flush() }
        }
    }

    /// Writes the table (once).
    func report() {
        lock.lock()
        defer { lock.unlock() }
        guard !reported else { return }
        reported = true
        _ = context.driver.cuCtxSetCurrent(context.context)
        try? flush()
        let total = totals.values.reduce(0) { $0 + $1.milliseconds }
        let wall = Date().timeIntervalSince(started) * 1000
        var lines = [String(format: "CUDA profile: %.1f ms of GPU time in %d launches over %.1f ms of wall time",
                            total, totals.values.reduce(0) { $0 + $1.calls }, wall),
                     "      GPU ms      %    calls    mean µs  name"]
        for (name, entry) in totals.sorted(by: { $0.value.milliseconds > $1.value.milliseconds }) {
            lines.append(String(format: "%12.2f %6.2f %8d %10.1f  %@", entry.milliseconds,
                                100 * entry.milliseconds / max(total, 1e-9), entry.calls,
                                1000 * entry.milliseconds / Double(entry.calls), name))
        }
        let text = lines.joined(separator: "\n") + "\n"
        if destination.isEmpty {
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            try? text.write(toFile: destination, atomically: true, encoding: .utf8)
        }
    }

    /// A timing event from the pool. Call with `lock` held.
    private func event() throws -> CUevent {
        if let event = free.popLast() { return event }
        var event: CUevent?
        try context.driver.check(context.driver.cuEventCreate(&event, 0), "cuEventCreate (profiler)")
        guard let event else { throw CUDAError.unsupportedDevice("cuEventCreate returned no event") }
        return event
    }

    /// Waits for the pending events and adds their times up. Call with `lock` held.
    private func flush() throws {
        guard let last = pending.last else { return }
        try context.driver.check(context.driver.cuEventSynchronize(last.end), "cuEventSynchronize (profiler)")
        for (name, start, end) in pending {
            var milliseconds: Float = 0
            _ = context.driver.cuEventElapsedTime(&milliseconds, start, end)
            totals[name, default: (0, 0)].calls += 1
            totals[name, default: (0, 0)].milliseconds += Double(milliseconds)
            free += [start, end]
        }
        pending.removeAll(keepingCapacity: true)
    }
}
