import SwiftTuneTensor

/// The paged KV cache ops for generation: a grid-stride scatter of the new keys and values into their slots, and
/// attention over the cache with one thread block per (new token, query head), as the packed `attention` kernel.
///
/// Shapes and dtypes are checked on the host; the index tensors (slots, block tables, context lengths, query
/// starts) stay on the GPU and are not read back, so they must be well formed (the CPU backend checks them).
extension CUDABackend {
    public func writeKeyValueCache(key: Tensor, value: Tensor, slots: Tensor, keyCache: Tensor,
                                   valueCache: Tensor) throws {
        let op = "writeKeyValueCache"
        try Validate.f32([(key, "key"), (value, "value"), (keyCache, "keyCache"), (valueCache, "valueCache")], op)
        try Validate.dtype(slots, .i32, op, "slots")
        try Validate.rank(key, 3, op, "key", "[N, Hkv, hd]")
        try Validate.shape(value, key.shape, op, "value")
        try Validate.rank(keyCache, 4, op, "keyCache", "[blocks, blockSize, Hkv, hd]")
        try Validate.shape(keyCache, [keyCache.size(0), keyCache.size(1), key.size(1), key.size(2)], op, "keyCache")
        try Validate.shape(valueCache, keyCache.shape, op, "valueCache")
        try Validate.shape(slots, [key.size(0)], op, "slots")
        let rowWidth = key.size(1) * key.size(2)
        try Validate.fitsInt32([rowWidth, keyCache.size(0) * keyCache.size(1)], op, keyCache.shape)
        guard key.count > 0 else { return }
        try context.makeCurrent()
        try launchElementwise(.writeKeyValueCacheF32, count: key.count, [
            .pointer(address(keyCache, op)), .pointer(address(valueCache, op)), .pointer(address(key, op)),
            .pointer(address(value, op)), .pointer(address(slots, op)), .long(key.size(0)), .int(rowWidth),
        ])
    }

    public func pagedAttention(query: Tensor, keyCache: Tensor, valueCache: Tensor, blockTables: Tensor,
                               contextLengths: Tensor, queryStarts: Tensor, slidingWindow: Int?, scale: Float,
                               into out: Tensor) throws {
        let op = "pagedAttention"
        try Validate.f32([(query, "query"), (keyCache, "keyCache"), (valueCache, "valueCache"), (out, "out")], op)
        for (tensor, role) in [(blockTables, "blockTables"), (contextLengths, "contextLengths"), (queryStarts, "queryStarts")] {
            try Validate.dtype(tensor, .i32, op, role)
        }
        try Validate.rank(query, 3, op, "query", "[N, Hq, hd]")
        try Validate.rank(keyCache, 4, op, "keyCache", "[blocks, blockSize, Hkv, hd]")
        try Validate.shape(valueCache, keyCache.shape, op, "valueCache")
        try Validate.shape(out, query.shape, op, "out")
        try Validate.rank(blockTables, 2, op, "blockTables", "[S, maxBlocks]")
        let (tokens, queryHeads, headDim) = (query.size(0), query.size(1), query.size(2))
        let (blockSize, keyValueHeads) = (keyCache.size(1), keyCache.size(2))
        let sequences = queryStarts.count - 1
        guard queryStarts.rank == 1, sequences >= 1 else {
            throw TensorError.shapeMismatch(op: "\(op)(queryStarts)", expected: "[S + 1] with S ≥ 1", got: queryStarts.shape)
        }
        try Validate.shape(contextLengths, [sequences], op, "contextLengths")
        try Validate.shape(blockTables, [sequences, blockTables.size(1)], op, "blockTables")
        guard keyCache.size(3) == headDim, keyValueHeads > 0, queryHeads % keyValueHeads == 0, blockSize > 0 else {
            throw TensorError.shapeMismatch(
                op: "\(op)(keyCache)", expected: "[blocks, blockSize ≥ 1, Hkv, \(headDim)] with Hkv dividing Hq = \(queryHeads)",
                got: keyCache.shape)
        }
        guard headDim >= 1, headDim <= KernelSource.maximumHeadDimension else {
            throw TensorError.shapeMismatch(op: "\(op)(query)",
                                            expected: "a head dimension in 1...\(KernelSource.maximumHeadDimension)",
                                            got: query.shape)
        }
        if let slidingWindow, slidingWindow < 1 {
            throw TensorError.invalidShape([slidingWindow], reason: "\(op): slidingWindow must be at least 1")
        }
        try Validate.fitsInt32([tokens, keyCache.size(0) * blockSize, blockTables.size(1)], op, query.shape)
        guard queryHeads <= 65_535 else {
            throw TensorError.shapeMismatch(op: "\(op)(query)", expected: "at most 65535 heads", got: query.shape)
        }
        guard tokens > 0, queryHeads > 0 else { return }
        try context.makeCurrent()
        try launch(.pagedAttentionF32, grid: (tokens, queryHeads), block: headDim <= 128 ? 128 : 256, [
            .pointer(address(out, op)), .pointer(address(query, op)), .pointer(address(keyCache, op)),
            .pointer(address(valueCache, op)), .pointer(address(blockTables, op)), .pointer(address(contextLengths, op)),
            .pointer(address(queryStarts, op)), .int(sequences), .int(blockTables.size(1)), .int(blockSize),
            .int(queryHeads), .int(keyValueHeads), .int(headDim), .int(min(slidingWindow ?? 0, Int(Int32.max))),
            .float32(scale),
        ])
    }
}
