/// How a collective combines the ranks' values.
public enum ReductionOperation: String, Sendable, CaseIterable {
    /// The sum over the ranks (`ncclSum`).
    case sum
    /// The sum divided by the world size (`ncclAvg`): data-parallel gradients.
    case average
}

/// Collective operations over the ranks of a process group: the seam for several GPUs.
///
/// The operations are NCCL's (https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/usage/collectives.html), so an
/// NCCL communicator (one rank per GPU, `libnccl.so.2` through `dlopen`, calls queued on the CUDA backend's stream) is
/// a second conformance, not a new API. Every call is collective: every rank makes it, in the same order, with tensors
/// of the same shapes and dtype, on its own backend. Like the ops, a call may return before the work is done on a GPU;
/// reading the result on the host (`Backend.download`) waits. Shapes and dtypes are checked by `OpCheck`
/// (`allReduce`, `reduceScatter`, `allGather`, `broadcast`), the same for every implementation.
///
/// `SingleProcessCommunicator` is the world of one rank (every collective a copy), which training uses today.
public protocol Communicator: AnyObject, Sendable {
    /// This process's rank, in `0..<worldSize`.
    var rank: Int { get }
    /// The number of ranks.
    var worldSize: Int { get }

    /// `output[i] = operation over the ranks of input[i]`, on every rank. input and output: float tensors of one dtype
    /// and element count; `output` may be `input` (in place).
    func allReduce(_ input: Tensor, into output: Tensor, operation: ReductionOperation) throws

    /// Reduces `input` over the ranks and leaves rank r the r-th of `worldSize` equal chunks: `output[i] =
    /// operation over the ranks of input[rank · n + i]`, n = output's element count. input: `worldSize · n` elements;
    /// same dtype (sharded gradients: ZeRO-2, FSDP).
    func reduceScatter(_ input: Tensor, into output: Tensor, operation: ReductionOperation) throws

    /// Concatenates every rank's `input` in rank order: `output[r · n + i] = input[i]` of rank r, n = input's element
    /// count, on every rank. output: `worldSize · n` elements, same dtype (sharded parameters before a forward pass).
    func allGather(_ input: Tensor, into output: Tensor) throws

    /// Copies rank `root`'s `tensor` into `tensor` on every other rank (initial weights, a step's random seed).
    func broadcast(_ tensor: Tensor, root: Int) throws

    /// Returns on each rank once every rank has called it.
    func barrier() throws
}
