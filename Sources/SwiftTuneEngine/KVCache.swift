import SwiftTuneModels
import SwiftTuneTensor

/// The block pool of a paged key/value cache: the model's cache tensors (`KVCacheStorage`) and which of their
/// blocks are free (the bookkeeping of vLLM's PagedAttention, Kwon et al. 2023, https://arxiv.org/abs/2309.06180),
/// with prefix caching: a full block whose keys and values are computed can be registered under its tokens (and
/// the blocks before it), and a later sequence with the same prefix takes it instead of computing it again.
///
/// A sequence takes the blocks for its whole budget (prompt and answer) when it is admitted and gives them back when
/// it ends, so sequences of any length join and leave between steps with no allocation and no copying. A shared
/// block counts its holders; a registered block no sequence holds stays cached until its space is needed (the
/// least recently released goes first). Not thread-safe on its own: `GenerationEngine` guards it with its lock.
public final class KVCache: @unchecked Sendable {
    /// The tensors the blocks index.
    public let storage: KVCacheStorage
    /// Blocks holding nothing reusable; the next block handed out is the last one.
    private var freeBlocks: [Int32]
    /// Sequences holding each block.
    private var holders: [Int32]
    /// Registered blocks: what each holds, and the block a lookup reaches for a prefix.
    private var cached: [Int32: CachedBlock] = [:]
    private var blockForKey: [BlockKey: Int32] = [:]
    /// Registered blocks no sequence holds, with when each was released (eviction takes the oldest first).
    private var evictable: [Int32: UInt64] = [:]
    private var clock: UInt64 = 0

    /// What a registered block holds: its tokens after the block before it, under one adapter.
    struct BlockKey: Hashable {
        var parent: Int32?
        var tokens: [Int32]
        var adapter: String?
    }

    struct CachedBlock {
        var key: BlockKey
    }

    /// A pool over `storage`, every block free.
    public init(storage: KVCacheStorage) {
        self.storage = storage
        freeBlocks = (0..<Int32(storage.blockCount)).reversed()
        holders = [Int32](repeating: 0, count: storage.blockCount)
    }

    /// Tokens per block.
    public var blockSize: Int { storage.blockSize }

    /// Blocks in the pool (per layer).
    public var blockCount: Int { storage.blockCount }

    /// Tokens the pool holds in all.
    public var tokenCapacity: Int { storage.tokenCapacity }

    /// Blocks not held by any sequence (free, or cached and evictable).
    public var freeBlockCount: Int { freeBlocks.count + evictable.count }

    /// Registered blocks (held or not).
    public var cachedBlockCount: Int { cached.count }

    /// Blocks that hold `tokens` tokens.
    public func blocksNeeded(forTokens tokens: Int) -> Int { (max(tokens, 0) + blockSize - 1) / blockSize }

    /// Takes `count` blocks from the pool, or nil (taking nothing) when fewer are free: unregistered blocks first,
    /// then the cached blocks released longest ago (forgotten as they are taken).
    public func allocateBlocks(_ count: Int) -> [Int32]? {
        guard count >= 0, count <= freeBlockCount else { return nil }
        var taken: [Int32] = []
        taken.reserveCapacity(count)
        while taken.count < count {
            if let block = freeBlocks.popLast() {
                taken.append(block)
                continue
            }
            // Forgetting a block also frees the cached blocks that chain from it: they are taken next, as free.
            guard let oldest = evictable.min(by: { ($0.value, $0.key) < ($1.value, $1.key) })?.key else { break }
            forget(oldest)
            taken.append(oldest)
        }
        for block in taken { holders[Int(block)] = 1 }
        return taken
    }

    /// Returns blocks to the pool: a block's last holder makes it free, or evictable when it is registered.
    public func release(_ blocks: [Int32]) {
        for block in blocks.reversed() {
            let index = Int(block)
            guard holders[index] > 0 else { continue }
            holders[index] -= 1
            guard holders[index] == 0 else { continue }
            if cached[block] != nil {
                clock += 1
                evictable[block] = clock
            } else {
                freeBlocks.append(block)
            }
        }
    }

    /// The registered blocks that hold `blocks` (each `blockSize` tokens, in order) under `adapter`, as far as
    /// they are cached: each found block gains a holder (release it with the sequence's other blocks).
    public func takeCachedPrefix(_ blocks: [[Int32]], adapter: String?) -> [Int32] {
        var found: [Int32] = []
        for tokens in blocks {
            guard let block = blockForKey[BlockKey(parent: found.last, tokens: tokens, adapter: adapter)] else { break }
            if holders[Int(block)] == 0 { evictable[block] = nil }
            holders[Int(block)] += 1
            found.append(block)
        }
        return found
    }

    /// Registers `block` (held, its keys and values computed) as holding `tokens` after the registered block
    /// `parent` (nil: the first block) under `adapter`. Returns the block registered for that prefix: `block`, or
    /// the one another sequence registered first (the same keys and values); nil when `parent` is not registered
    /// (it was evicted), so nothing may chain from here.
    @discardableResult
    public func register(_ block: Int32, tokens: [Int32], after parent: Int32?, adapter: String?) -> Int32? {
        guard tokens.count == blockSize, parent.map({ cached[$0] != nil }) ?? true else { return nil }
        let key = BlockKey(parent: parent, tokens: tokens, adapter: adapter)
        if let existing = blockForKey[key] { return existing }
        guard cached[block] == nil else { return nil }
        cached[block] = CachedBlock(key: key)
        blockForKey[key] = block
        return block
    }

    /// Forgets every registered block (after the model's weights change, their keys and values are stale).
    public func clearCachedPrefixes() {
        for block in Array(cached.keys) {
            let wasEvictable = evictable[block] != nil
            forget(block)
            if wasEvictable { freeBlocks.append(block) }
        }
    }

    /// Drops `block`'s registration, and the registrations that chain from it (their parent is gone, so no lookup
    /// could reach them).
    private func forget(_ block: Int32) {
        guard let entry = cached.removeValue(forKey: block) else { return }
        blockForKey[entry.key] = nil
        evictable[block] = nil
        let children = cached.filter { $0.value.key.parent == block }.map(\.key)
        for child in children {
            let wasEvictable = evictable[child] != nil
            forget(child)
            if wasEvictable { freeBlocks.append(child) }
        }
    }
}
