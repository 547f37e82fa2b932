/// The `Communicator` of a world of one rank: every collective is the identity, so training code written against
/// `Communicator` runs unchanged in one process. A reduction over one rank is its value (the average divides by 1), a
/// gather or a scatter of one chunk is a copy; in place, nothing runs at all.
public final class SingleProcessCommunicator: Communicator {
    public let rank = 0
    public let worldSize = 1

    public init() {}

    public func allReduce(_ input: Tensor, into output: Tensor, operation: ReductionOperation) throws {
        try OpCheck.allReduce(input, output: output, worldSize: worldSize)
        try copy(input, to: output)
    }

    public func reduceScatter(_ input: Tensor, into output: Tensor, operation: ReductionOperation) throws {
        try OpCheck.reduceScatter(input, output: output, worldSize: worldSize)
        try copy(input, to: output)
    }

    public func allGather(_ input: Tensor, into output: Tensor) throws {
        try OpCheck.allGather(input, output: output, worldSize: worldSize)
        try copy(input, to: output)
    }

    public func broadcast(_ tensor: Tensor, root: Int) throws {
        try OpCheck.broadcast(tensor, root: root, worldSize: worldSize)
    }

    /// One rank has always reached the barrier; nothing is waited for.
    public func barrier() throws {}

    /// `output = input` unless they are the same memory.
    private func copy(_ input: Tensor, to output: Tensor) throws {
        if input.storage === output.storage, input.byteOffset == output.byteOffset { return }
        try output.backend.copy(input, to: output)
    }
}
