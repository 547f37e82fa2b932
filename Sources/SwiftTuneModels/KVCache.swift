import SwiftTuneCheckpoint
import SwiftTuneTensor

/// A preallocated, paged key/value cache for generation (the layout of vLLM's PagedAttention, Kwon et al. 2023,
/// https://arxiv.org/abs/2309.06180).
///
/// Every layer owns two tensors `[blocks, blockSize, Hkv, hd]` in the model's compute dtype, allocated once. A
/// sequence holds a list of block indices (its block table); token position `p` lives in block
/// `table[p / blockSize]` at offset `p % blockSize`. Blocks come from a shared free list, so sequences of any length join and leave between steps
/// with no allocation and no copying (what a continuous-batching server needs).
public final class KVCache: @unchecked Sendable {
    /// Tokens per block.
    public let blockSize: Int
    /// Blocks in the pool (per layer).
    public let blockCount: Int
    /// Per layer: keys `[blocks, blockSize, Hkv, hd]`.
    public let keys: [Tensor]
    /// Per layer: values `[blocks, blockSize, Hkv, hd]`.
    public let values: [Tensor]
    /// Free block indices; the next block handed out is the last one.
    private var freeBlocks: [Int32]

    /// Allocates the cache of `config`'s layers on `backend` (contents unspecified until written).
    public init(config: DecoderConfig, backend: any Backend, blockCount: Int, blockSize: Int = 16,
                dtype: DType = .f32) throws {
        guard blockCount >= 1, blockSize >= 1, blockCount * blockSize <= Int(Int32.max) else {
            throw ModelError.invalidBatch("a KV cache needs at least one block of at least one token "
                + "(got \(blockCount) blocks of \(blockSize))")
        }
        self.blockSize = blockSize
        self.blockCount = blockCount
        let shape = [blockCount, blockSize, config.numKeyValueHeads, config.headDim]
        keys = try (0..<config.numHiddenLayers).map { _ in try backend.empty(shape, dtype: dtype) }
        values = try (0..<config.numHiddenLayers).map { _ in try backend.empty(shape, dtype: dtype) }
        freeBlocks = (0..<Int32(blockCount)).reversed()
    }

    /// Blocks that hold `tokens` tokens.
    public func blocksNeeded(forTokens tokens: Int) -> Int { (max(tokens, 0) + blockSize - 1) / blockSize }

    /// Tokens the pool holds in all.
    public var tokenCapacity: Int { blockCount * blockSize }

    /// Blocks not held by any sequence.
    public var freeBlockCount: Int { freeBlocks.count }

    /// Takes `count` blocks from the pool; throws when fewer are free (nothing is taken then).
    public func allocateBlocks(_ count: Int) throws -> [Int32] {
        guard count <= freeBlocks.count else {
            throw ModelError.invalidBatch("the KV cache has \(freeBlocks.count) free blocks of \(blockSize) tokens, "
                + "\(count) are needed (hint: a larger cache, or fewer sequences at once)")
        }
        let taken = Array(freeBlocks.suffix(count).reversed())
        freeBlocks.removeLast(count)
        return taken
    }

    /// Returns blocks to the pool.
    public func release(_ blocks: [Int32]) {
        freeBlocks.append(contentsOf: blocks.reversed())
    }
}
