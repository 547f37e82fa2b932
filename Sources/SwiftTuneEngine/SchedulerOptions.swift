/// What `BatchScheduler` does when asked; the queue limit bounds memory under load.
public struct SchedulerOptions: Sendable, Equatable {
    /// Requests that may wait for a place in the batch (accepted, not yet running); one more is refused with
    /// `GenerationError.queueFull` (HTTP 429).
    public var queueLimit: Int

    public init(queueLimit: Int = 256) {
        self.queueLimit = queueLimit
    }
}
