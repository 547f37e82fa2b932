/// One accepted request's updates. Iterate it to receive them; cancelling the iterating task, or dropping the
/// stream, cancels the request.
public struct GenerationStream: AsyncSequence, Sendable {
    public typealias Element = GenerationUpdate
    /// The scheduler's id of the request (`BatchScheduler.cancel`).
    public let id: Int
    /// Prompt tokens used (after left-truncation, if any).
    public let promptTokenCount: Int
    let updates: AsyncStream<GenerationUpdate>
    let scheduler: BatchScheduler

    public func makeAsyncIterator() -> AsyncStream<GenerationUpdate>.Iterator {
        updates.makeAsyncIterator()
    }

    /// Stops the request (same as cancelling the consumer).
    public func cancel() {
        scheduler.cancel(id)
    }
}
