import SwiftTuneTensor

/// A `KVCacheBatch` on a device (all i32): what the cached forward pass (`DecoderModel.cachedLogits`) reads.
public struct DeviceKVCacheBatch: Sendable {
    public let count: Int
    public let sequenceCount: Int
    /// `[N]`
    public let inputIds: Tensor
    /// `[N]`
    public let positions: Tensor
    /// `[N]`
    public let slots: Tensor
    /// `[S + 1]`
    public let queryStarts: Tensor
    /// `[S]`
    public let contextLengths: Tensor
    /// `[S, maxBlocks]`
    public let blockTables: Tensor
    /// `[S]`
    public let lastTokenRows: Tensor

    public init(count: Int, sequenceCount: Int, inputIds: Tensor, positions: Tensor, slots: Tensor, queryStarts: Tensor,
                contextLengths: Tensor, blockTables: Tensor, lastTokenRows: Tensor) {
        self.count = count
        self.sequenceCount = sequenceCount
        self.inputIds = inputIds
        self.positions = positions
        self.slots = slots
        self.queryStarts = queryStarts
        self.contextLengths = contextLengths
        self.blockTables = blockTables
        self.lastTokenRows = lastTokenRows
    }
}
