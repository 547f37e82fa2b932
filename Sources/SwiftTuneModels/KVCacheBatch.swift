import SwiftTuneTensor

/// One step of cached generation: the new tokens of several sequences, packed end to end, and where their
/// keys and values go in a `KVCacheStorage`.
///
/// A sequence contributes its whole prompt (prefill), a chunk of it, or one sampled token (decode); all of them
/// run in one forward pass. The step's logits are one row per sequence, for its last new token.
public struct KVCacheBatch: Sendable, Equatable {
    /// One sequence's part of a step.
    public struct Entry: Sendable, Equatable {
        /// The new token ids (at least one).
        public var tokens: [Int32]
        /// Tokens of the sequence already in the cache; the new ones take positions `cachedLength...`.
        public var cachedLength: Int
        /// The sequence's blocks, in order; they must hold `cachedLength + tokens.count` tokens.
        public var blocks: [Int32]

        public init(tokens: [Int32], cachedLength: Int, blocks: [Int32]) {
            self.tokens = tokens
            self.cachedLength = cachedLength
            self.blocks = blocks
        }
    }

    /// `[N]` new token ids.
    public var inputIds: [Int32]
    /// `[N]` positions (RoPE) of the new tokens.
    public var positions: [Int32]
    /// `[N]` cache slots `block · blockSize + offset` the new tokens' keys and values go to.
    public var slots: [Int32]
    /// `[S + 1]` where each sequence's new tokens start.
    public var queryStarts: [Int32]
    /// `[S]` tokens in the cache per sequence after this step.
    public var contextLengths: [Int32]
    /// `[S, maxBlocks]` block tables, padded with 0.
    public var blockTables: [Int32]
    public var maxBlocks: Int
    /// `[S]` the row of each sequence's last new token (the rows whose logits are computed).
    public var lastTokenRows: [Int32]

    /// Lays out `entries` for a cache of `blockSize`-token blocks; checks that each has tokens and enough blocks.
    public init(entries: [Entry], blockSize: Int) throws {
        guard !entries.isEmpty else { throw ModelError.invalidBatch("a cached step needs at least one sequence") }
        var ids: [Int32] = [], positions: [Int32] = [], slots: [Int32] = [], starts: [Int32] = [0]
        var lengths: [Int32] = [], last: [Int32] = []
        let maxBlocks = max(1, entries.map(\.blocks.count).max() ?? 1)
        var tables = [Int32](repeating: 0, count: entries.count * maxBlocks)
        for (s, entry) in entries.enumerated() {
            let length = entry.cachedLength + entry.tokens.count
            guard !entry.tokens.isEmpty, entry.cachedLength >= 0 else {
                throw ModelError.invalidBatch("sequence \(s) of a cached step has no new tokens")
            }
            guard entry.blocks.count * blockSize >= length else {
                throw ModelError.invalidBatch("sequence \(s) needs \(length) cache slots but holds \(entry.blocks.count) "
                    + "blocks of \(blockSize)")
            }
            for (t, id) in entry.tokens.enumerated() {
                let position = entry.cachedLength + t
                ids.append(id)
                positions.append(Int32(position))
                slots.append(entry.blocks[position / blockSize] * Int32(blockSize) + Int32(position % blockSize))
            }
            starts.append(Int32(ids.count))
            lengths.append(Int32(length))
            last.append(Int32(ids.count - 1))
            for (b, block) in entry.blocks.enumerated() { tables[s * maxBlocks + b] = block }
        }
        inputIds = ids
        self.positions = positions
        self.slots = slots
        queryStarts = starts
        contextLengths = lengths
        blockTables = tables
        self.maxBlocks = maxBlocks
        lastTokenRows = last
    }

    /// New tokens in the step.
    public var count: Int { inputIds.count }
    /// Sequences in the step.
    public var sequenceCount: Int { contextLengths.count }

    /// The step as device tensors.
    public func upload(to backend: any Backend) throws -> DeviceKVCacheBatch {
        DeviceKVCacheBatch(
            count: count, sequenceCount: sequenceCount,
            inputIds: try backend.tensor(inputIds, shape: [count]),
            positions: try backend.tensor(positions, shape: [count]),
            slots: try backend.tensor(slots, shape: [count]),
            queryStarts: try backend.tensor(queryStarts, shape: [queryStarts.count]),
            contextLengths: try backend.tensor(contextLengths, shape: [sequenceCount]),
            blockTables: try backend.tensor(blockTables, shape: [sequenceCount, maxBlocks]),
            lastTokenRows: try backend.tensor(lastTokenRows, shape: [sequenceCount]))
    }
}
