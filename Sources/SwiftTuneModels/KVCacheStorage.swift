import SwiftTuneCheckpoint
import SwiftTuneTensor

/// The tensors of a paged key/value cache for generation (the layout of vLLM's PagedAttention, Kwon et al. 2023,
/// https://arxiv.org/abs/2309.06180): what `DecoderModel.cachedLogits` reads and writes.
///
/// Every layer owns two tensors `[blocks, blockSize, Hkv, hd]` in the model's compute dtype, allocated once. Token position `p` of a
/// sequence lives in block `table[p / blockSize]` at offset `p % blockSize`, where the table is the sequence's list
/// of blocks (`KVCacheBatch.Entry.blocks`). Which sequence holds which block is not the storage's concern: the
/// generation engine's block pool (`SwiftTuneEngine.KVCache`) hands blocks out and takes them back.
public struct KVCacheStorage: Sendable {
    /// Tokens per block.
    public let blockSize: Int
    /// Blocks per layer.
    public let blockCount: Int
    /// Per layer: keys `[blocks, blockSize, Hkv, hd]`.
    public let keys: [Tensor]
    /// Per layer: values `[blocks, blockSize, Hkv, hd]`.
    public let values: [Tensor]

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
    }

    /// Tokens the cache holds in all.
    public var tokenCapacity: Int { blockCount * blockSize }
}
