/// Counters of a `BatchScheduler` since it started.
public struct SchedulerStatistics: Sendable, Equatable {
    /// Requests in the batch now.
    public var running = 0
    /// Requests queued for a place in the batch now.
    public var waiting = 0
    /// Engine steps run.
    public var steps = 0
    /// Prompt tokens put into the KV cache.
    public var promptTokens = 0
    /// Tokens sampled.
    public var generatedTokens = 0
    public var finished = 0
    public var cancelled = 0
    public var failed = 0
    /// Times a full KV cache sent a running request back to the queue (to be recomputed, not lost).
    public var preempted = 0
    /// Submissions refused (queue full or shutting down).
    public var rejected = 0

    public init() {}

    mutating func add(_ counts: StepCounts) {
        steps += counts.steps
        promptTokens += counts.promptTokens
        generatedTokens += counts.generatedTokens
        finished += counts.finished
        cancelled += counts.cancelled
        failed += counts.failed
        preempted += counts.preempted
    }
}

/// What one pass of the scheduler loop did.
struct StepCounts {
    var steps = 0, promptTokens = 0, generatedTokens = 0, finished = 0, cancelled = 0, failed = 0, preempted = 0
}
