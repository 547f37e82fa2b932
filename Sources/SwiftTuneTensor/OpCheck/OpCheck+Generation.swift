/// The paged KV cache ops (`Backend.writeKeyValueCache`, `pagedAttention`).
extension OpCheck {
    /// The sizes of a cache write: `tokens` rows of `rowWidth = Hkv · hd` into `slots` cache slots.
    public struct KeyValueCacheShape: Sendable, Equatable {
        public var tokens: Int
        public var rowWidth: Int
        /// `blocks · blockSize`.
        public var slots: Int
    }

    /// `writeKeyValueCache`: key and value `[N, Hkv, hd]`, slots i32 `[N]`, keyCache and valueCache
    /// `[blocks, blockSize, Hkv, hd]`. Slots in range and distinct are the CPU's to check.
    public static func writeKeyValueCache(key: Tensor, value: Tensor, slots: Tensor, keyCache: Tensor,
                                          valueCache: Tensor) throws -> KeyValueCacheShape {
        let op = "writeKeyValueCache"
        try storage(op, (key, "key"), (value, "value"), (keyCache, "keyCache"), (valueCache, "valueCache"))
        try dtype(slots, .i32, op, "slots")
        try rank(key, 3, op, "key", layout: "[N, Hkv, hd]")
        try shape(value, key.shape, op, "value")
        try rank(keyCache, 4, op, "keyCache", layout: "[blocks, blockSize, Hkv, hd]")
        guard keyCache.size(2) == key.size(1), keyCache.size(3) == key.size(2) else {
            throw TensorError.shapeMismatch(op: "\(op) keyCache",
                                            expected: "[blocks, blockSize, \(key.size(1)), \(key.size(2))]",
                                            got: keyCache.shape)
        }
        try shape(valueCache, keyCache.shape, op, "valueCache")
        try shape(slots, [key.size(0)], op, "slots")
        return KeyValueCacheShape(tokens: key.size(0), rowWidth: key.size(1) * key.size(2),
                                  slots: keyCache.size(0) * keyCache.size(1))
    }

    /// The sizes of a paged attention call: `tokens` new rows of `sequences` sequences, query heads `queryHeads`,
    /// a cache of `blocks` blocks of `blockSize` positions, block tables `[sequences, maxBlocks]`.
    public struct PagedAttentionShape: Sendable, Equatable {
        public var tokens: Int
        public var queryHeads: Int
        public var keyValueHeads: Int
        public var headDim: Int
        public var blocks: Int
        public var blockSize: Int
        public var maxBlocks: Int
        public var sequences: Int
    }

    /// `pagedAttention`: query and out `[N, Hq, hd]`, keyCache and valueCache `[blocks, blockSize ≥ 1, Hkv, hd]` with
    /// Hkv dividing Hq, blockTables i32 `[S, maxBlocks]`, contextLengths i32 `[S]`, queryStarts i32 `[S + 1]`, a window
    /// ≥ 1 when given. The values (rising starts, lengths that cover the new rows, blocks in range) are the CPU's.
    public static func pagedAttention(query: Tensor, keyCache: Tensor, valueCache: Tensor, blockTables: Tensor,
                                      contextLengths: Tensor, queryStarts: Tensor, slidingWindow: Int?,
                                      out: Tensor) throws -> PagedAttentionShape {
        let op = "pagedAttention"
        try storage(op, (query, "query"), (keyCache, "keyCache"), (valueCache, "valueCache"), (out, "out"))
        try dtype(blockTables, .i32, op, "blockTables")
        try dtype(contextLengths, .i32, op, "contextLengths")
        try rank(query, 3, op, "query", layout: "[N, Hq, hd]")
        try rank(keyCache, 4, op, "keyCache", layout: "[blocks, blockSize, Hkv, hd]")
        try shape(valueCache, keyCache.shape, op, "valueCache")
        try shape(out, query.shape, op, "out")
        try rank(blockTables, 2, op, "blockTables", layout: "[S, maxBlocks]")
        var size = PagedAttentionShape(tokens: query.size(0), queryHeads: query.size(1), keyValueHeads: keyCache.size(2),
                                       headDim: query.size(2), blocks: keyCache.size(0), blockSize: keyCache.size(1),
                                       maxBlocks: blockTables.size(1), sequences: 0)
        guard keyCache.size(3) == size.headDim, size.keyValueHeads > 0, size.queryHeads % size.keyValueHeads == 0,
              size.blockSize > 0 else {
            throw TensorError.shapeMismatch(
                op: "\(op) keyCache",
                expected: "[blocks, blockSize ≥ 1, Hkv, \(size.headDim)] with Hkv dividing Hq = \(size.queryHeads)",
                got: keyCache.shape)
        }
        try window(slidingWindow, op)
        size.sequences = try offsets(queryStarts, op, "queryStarts")
        try shape(contextLengths, [size.sequences], op, "contextLengths")
        try shape(blockTables, [size.sequences, size.maxBlocks], op, "blockTables")
        return size
    }
}
