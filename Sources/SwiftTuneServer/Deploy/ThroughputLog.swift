import Foundation
import SwiftTuneEngine
import SwiftTuneGeneration

/// `--log_interval`'s line: token rates since the last line, the batch and queue now, and request totals.
struct ThroughputLog {
    private var last = SchedulerStatistics()
    private var lastTime: ContinuousClock.Instant

    init(start: ContinuousClock.Instant = .now) {
        lastTime = start
    }

    /// The line for `statistics` read at `now`.
    mutating func line(_ statistics: SchedulerStatistics, now: ContinuousClock.Instant = .now) -> String {
        let elapsed = max(1e-9, Double((now - lastTime).components.seconds) + Double((now - lastTime).components.attoseconds) * 1e-18)
        let prompt = Double(statistics.promptTokens - last.promptTokens) / elapsed
        let generated = Double(statistics.generatedTokens - last.generatedTokens) / elapsed
        last = statistics
        lastTime = now
        return String(format: "prompt %.1f tokens/s, generation %.1f tokens/s; running %d, waiting %d; "
                          + "requests finished %d, cancelled %d, failed %d, refused %d, preempted %d",
                      prompt, generated, statistics.running, statistics.waiting, statistics.finished,
                      statistics.cancelled, statistics.failed, statistics.rejected, statistics.preempted)
    }
}
