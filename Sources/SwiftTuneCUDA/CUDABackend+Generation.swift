import SwiftTuneTensor

extension KernelFunction {
    /// `generation.cu`.
    static let generationFunctions: [KernelFunction] = [writeKeyValueCache, pagedAttention]
    static let writeKeyValueCache = KernelFunction(.generation, "write_kv_cache", dtypes: [.f32, .bf16])
    static let pagedAttention = KernelFunction(.generation, "paged_attention", dtypes: [.f32, .bf16])
}

/// The paged KV cache ops for generation: a grid-stride scatter of the new keys and values into their slots, and
/// attention over the cache with one thread block per (new token, query head), as the packed `attention` kernel.
///
/// Shapes and dtypes are checked on the host; the index tensors (slots, block tables, context lengths, query
/// starts) stay on the GPU and are not read back, so they must be well formed (the CPU backend checks them).
extension CUDABackend {
    public func writeKeyValueCache(key: Tensor, value: Tensor, slots: Tensor, keyCache: Tensor,
                                   valueCache: Tensor) throws {
        let op = "writeKeyValueCache"
        let size = try OpCheck.writeKeyValueCache(key: key, value: value, slots: slots, keyCache: keyCache,
                                                  valueCache: valueCache)
        try KernelLimits.fitsInt32([size.rowWidth, size.slots], op, keyCache.shape)
        guard key.count > 0 else { return }
        try context.makeCurrent()
        try launchElementwise(.writeKeyValueCache, key.dtype, count: key.count, [
            .pointer(address(keyCache, op)), .pointer(address(valueCache, op)), .pointer(address(key, op)),
            .pointer(address(value, op)), .pointer(address(slots, op)), .long(size.tokens), .int(size.rowWidth),
        ])
    }

    public func pagedAttention(query: Tensor, keyCache: Tensor, valueCache: Tensor, blockTables: Tensor,
                               contextLengths: Tensor, queryStarts: Tensor, slidingWindow: Int?, scale: Float,
                               into out: Tensor) throws {
        let op = "pagedAttention"
        let size = try OpCheck.pagedAttention(
            query: query, keyCache: keyCache, valueCache: valueCache, blockTables: blockTables,
            contextLengths: contextLengths, queryStarts: queryStarts, slidingWindow: slidingWindow, out: out)
        try KernelLimits.attentionHeads(headDim: size.headDim, queryHeads: size.queryHeads, op, query: query)
        try KernelLimits.fitsInt32([size.tokens, size.blocks * size.blockSize, size.maxBlocks], op, query.shape)
        guard size.tokens > 0, size.queryHeads > 0 else { return }
        try context.makeCurrent()
        try launch(.pagedAttention, query.dtype, grid: (size.tokens, size.queryHeads),
                   block: KernelLimits.attentionBlock(headDim: size.headDim), [
            .pointer(address(out, op)), .pointer(address(query, op)), .pointer(address(keyCache, op)),
            .pointer(address(valueCache, op)), .pointer(address(blockTables, op)), .pointer(address(contextLengths, op)),
            .pointer(address(queryStarts, op)), .int(size.sequences), .int(size.maxBlocks), .int(size.blockSize),
            .int(size.queryHeads), .int(size.keyValueHeads), .int(size.headDim), .int(Self.window(slidingWindow)),
            .float32(scale),
        ])
    }
}
