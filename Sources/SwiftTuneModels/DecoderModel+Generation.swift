import SwiftTuneTensor

/// The cached forward pass of generation: the same layers (q/k/v bias, q/k norm, RoPE at each token's position,
/// sliding windows, unmerged LoRA side paths) with attention over a paged KV cache (`KVCacheStorage`).
extension DecoderModel {
    /// The KV cache tensors for this model: `blockCount` blocks of `blockSize` tokens per layer.
    public func makeKVCacheStorage(blockCount: Int, blockSize: Int = 16) throws -> KVCacheStorage {
        try KVCacheStorage(config: config, backend: backend, blockCount: blockCount, blockSize: blockSize,
                           dtype: precision.compute)
    }

    /// Runs the new tokens of `batch` through the model, writing their keys and values into `cache`, and returns
    /// the logits f32 `[S, V]` of each sequence's last new token (the lm_head runs on those rows only).
    ///
    /// Sequence s's earlier tokens must already be in its cache blocks (from earlier steps); its new tokens are
    /// causal among themselves and see that prefix, so one call serves prefill, chunked prefill and decode.
    public func cachedLogits(_ batch: DeviceKVCacheBatch, cache: KVCacheStorage) throws -> Tensor {
        guard cache.keys.count == layers.count,
              let first = cache.keys.first, first.shape.count == 4,
              first.size(2) == config.numKeyValueHeads, first.size(3) == config.headDim,
              first.backend === backend else {
            throw ModelError.invalidBatch("the KV cache was not made for this model "
                + "(\(layers.count) layers × [blocks, blockSize, \(config.numKeyValueHeads), \(config.headDim)] on \(backend.name))")
        }
        var context = LayerContext(positions: batch.positions, sequenceStarts: batch.queryStarts,
                                   inverseFrequencies: inverseFrequencies, attentionScaling: rotary.attentionScaling,
                                   dropoutSeed: nil)
        context.paged = batch
        var h = try backend.empty([batch.count, config.hiddenSize], dtype: precision.compute)  // (N, D)
        try backend.embedding(ids: batch.inputIds, table: embedTokens.compute, into: h)
        for (index, layer) in layers.enumerated() {
            h = try layer.forward(h, context: context, keep: false,
                                  cache: LayerCache(key: cache.keys[index], value: cache.values[index])).0
        }
        // Only the rows that are sampled go through the final norm and the lm_head.
        let last = try backend.empty([batch.sequenceCount, config.hiddenSize], dtype: precision.compute)  // (S, D)
        try backend.embedding(ids: batch.lastTokenRows, table: h, into: last)
        let normed = try finalNorm(last, inverseRMS: nil)
        let logits = try backend.empty([batch.sequenceCount, config.vocabSize], dtype: .f32)  // (S, V)
        try backend.matmul(normed, lmHead.compute, into: logits, transposeA: false, transposeB: true, alpha: 1, beta: 0)
        return logits
    }
}
