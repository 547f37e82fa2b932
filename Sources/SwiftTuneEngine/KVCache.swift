import SwiftTuneModels
import SwiftTuneTensor

/// The block pool of a paged key/value cache: the model's cache tensors (`KVCacheStorage`) and which of their
/// blocks are free (the bookkeeping of vLLM's PagedAttention, Kwon et al. 2023, https://arxiv.org/abs/2309.06180).
///
/// A sequence takes the blocks for its whole budget (prompt and answer) when it is admitted and gives them back when
/// it ends, so sequences of any length join and leave between steps with no allocation and no copying. Not
/// thread-safe on its own: `GenerationEngine` guards it with its lock.
public final class KVCache: @unchecked Sendable {
    /// The tensors the blocks index.
    public let storage: KVCacheStorage
    /// Free block indices; the next block handed out is the last one.
    private var freeBlocks: [Int32]

    /// A pool over `storage`, every block free.
    public init(storage: KVCacheStorage) {
        self.storage = storage
        freeBlocks = (0..<Int32(storage.blockCount)).reversed()
    }

    /// Tokens per block.
    public var blockSize: Int { storage.blockSize }

    /// Blocks in the pool (per layer).
    public var blockCount: Int { storage.blockCount }

    /// Tokens the pool holds in all.
    public var tokenCapacity: Int { storage.tokenCapacity }

    /// Blocks not held by any sequence.
    public var freeBlockCount: Int { freeBlocks.count }

    /// Blocks that hold `tokens` tokens.
    public func blocksNeeded(forTokens tokens: Int) -> Int { (max(tokens, 0) + blockSize - 1) / blockSize }

    /// Takes `count` blocks from the pool, or nil (taking nothing) when fewer are free.
    public func allocateBlocks(_ count: Int) -> [Int32]? {
        guard count >= 0, count <= freeBlocks.count else { return nil }
        let taken = Array(freeBlocks.suffix(count).reversed())
        freeBlocks.removeLast(count)
        return taken
    }

    /// Returns blocks to the pool.
    public func release(_ blocks: [Int32]) {
        freeBlocks.append(contentsOf: blocks.reversed())
    }
}
