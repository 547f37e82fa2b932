import SwiftTuneTensor

/// The paged KV cache ops: validation (every index the kernels will follow is checked on the host), then
/// `CPUKernels.writeKeyValueCache` over rows and `CPUKernels.pagedAttentionRow` per (new token, query head).
extension CPUBackend {
    public func writeKeyValueCache(key: Tensor, value: Tensor, slots: Tensor, keyCache: Tensor,
                                   valueCache: Tensor) throws {
        let op = "writeKeyValueCache"
        try requireRank(key, 3, "\(op) key", layout: "[N, Hkv, hd]")
        try requireShape(value, key.shape, "\(op) value")
        let (tokens, rowWidth) = (key.size(0), key.size(1) * key.size(2))
        try requireRank(keyCache, 4, "\(op) keyCache", layout: "[blocks, blockSize, Hkv, hd]")
        guard keyCache.size(2) == key.size(1), keyCache.size(3) == key.size(2) else {
            throw TensorError.shapeMismatch(op: "\(op) keyCache", expected: "[blocks, blockSize, \(key.size(1)), \(key.size(2))]",
                                            got: keyCache.shape)
        }
        try requireShape(valueCache, keyCache.shape, "\(op) valueCache")
        try requireShape(slots, [tokens], "\(op) slots")
        let slotCount = keyCache.size(0) * keyCache.size(1)
        let slot = SendablePointer(try i32(slots, "\(op) slots"))
        var seen = Set<Int32>()
        for n in 0..<tokens where slot[n] >= 0 {
            guard Int(slot[n]) < slotCount else {
                throw TensorError.indexOutOfRange(op: "\(op) slots[\(n)]", index: Int(slot[n]), bound: slotCount)
            }
            guard seen.insert(slot[n]).inserted else {
                throw TensorError.invalidArgument(op: "\(op) slots[\(n)]", reason: "slot \(slot[n]) is written twice")
            }
        }
        let k = SendablePointer(try f32(key, "\(op) key")), v = SendablePointer(try f32(value, "\(op) value"))
        let kc = SendablePointer(try f32(keyCache, "\(op) keyCache")), vc = SendablePointer(try f32(valueCache, "\(op) valueCache"))
        parallelFor(tokens, grain: max(1, Self.elementwiseGrain / max(rowWidth, 1))) { range in
            CPUKernels.writeKeyValueCache(key: k.pointer, value: v.pointer, slots: slot.pointer, rowWidth: rowWidth,
                                          keyCache: kc.pointer, valueCache: vc.pointer, tokens: range)
        }
    }

    public func pagedAttention(query: Tensor, keyCache: Tensor, valueCache: Tensor, blockTables: Tensor,
                               contextLengths: Tensor, queryStarts: Tensor, slidingWindow: Int?, scale: Float,
                               into out: Tensor) throws {
        let op = "pagedAttention"
        try requireRank(query, 3, "\(op) query", layout: "[N, Hq, hd]")
        try requireRank(keyCache, 4, "\(op) keyCache", layout: "[blocks, blockSize, Hkv, hd]")
        try requireShape(valueCache, keyCache.shape, "\(op) valueCache")
        try requireShape(out, query.shape, "\(op) out")
        try requireRank(blockTables, 2, "\(op) blockTables", layout: "[S, maxBlocks]")
        let (tokens, blocks) = (query.size(0), keyCache.size(0))
        let shape = PagedAttentionShape(queryHeads: query.size(1), kvHeads: keyCache.size(2), headDim: query.size(2),
                                        blockSize: keyCache.size(1), maxBlocks: blockTables.size(1))
        guard keyCache.size(3) == shape.headDim, shape.kvHeads > 0, shape.queryHeads % shape.kvHeads == 0,
              shape.blockSize > 0 else {
            throw TensorError.shapeMismatch(
                op: "\(op) keyCache",
                expected: "[blocks, blockSize ≥ 1, Hkv, \(shape.headDim)] with Hkv dividing Hq = \(shape.queryHeads)",
                got: keyCache.shape)
        }
        if let slidingWindow, slidingWindow < 1 {
            throw TensorError.shapeMismatch(op: "\(op) slidingWindow", expected: "a window ≥ 1 (or nil)", got: [slidingWindow])
        }
        let ranges = try sequences(queryStarts, tokens: tokens, op)
        try requireShape(contextLengths, [ranges.count], "\(op) contextLengths")
        try requireShape(blockTables, [ranges.count, shape.maxBlocks], "\(op) blockTables")
        let lengths = try i32(contextLengths, "\(op) contextLengths")
        let tables = SendablePointer(try i32(blockTables, "\(op) blockTables"))
        // Per new row: its sequence and cache position; every block a row reads is checked here.
        var rowSequence = [Int](repeating: 0, count: tokens), rowPosition = [Int](repeating: 0, count: tokens)
        for (s, range) in ranges.enumerated() {
            let length = Int(lengths[s])
            guard length >= range.count, length <= shape.maxBlocks * shape.blockSize else {
                throw TensorError.invalidArgument(
                    op: "\(op) contextLengths[\(s)]",
                    reason: "\(length) must cover the sequence's \(range.count) new tokens and fit its "
                        + "\(shape.maxBlocks) blocks of \(shape.blockSize)")
            }
            for b in 0..<((length + shape.blockSize - 1) / shape.blockSize) {
                let block = Int(tables[s * shape.maxBlocks + b])
                guard (0..<blocks).contains(block) else {
                    throw TensorError.indexOutOfRange(op: "\(op) blockTables[\(s), \(b)]", index: block, bound: blocks)
                }
            }
            for (t, row) in range.enumerated() {
                rowSequence[row] = s
                rowPosition[row] = length - range.count + t
            }
        }
        let q = SendablePointer(try f32(query, "\(op) query")), o = SendablePointer(try f32(out, "\(op) out"))
        let kc = SendablePointer(try f32(keyCache, "\(op) keyCache")), vc = SendablePointer(try f32(valueCache, "\(op) valueCache"))
        let longest = rowPosition.max().map { $0 + 1 } ?? 1
        let scoreCount = max(1, min(longest, slidingWindow ?? longest))
        let heads = shape.queryHeads
        let (sequenceOf, positionOf) = (rowSequence, rowPosition)
        parallelFor(tokens * heads) { items in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: scoreCount)
            defer { scores.deallocate() }
            for item in items {
                let row = item / heads
                CPUKernels.pagedAttentionRow(
                    query: q.pointer, keyCache: kc.pointer, valueCache: vc.pointer, shape: shape,
                    table: tables.pointer + sequenceOf[row] * shape.maxBlocks, row: row, position: positionOf[row],
                    head: item % heads, window: slidingWindow, scale: scale, into: o.pointer, scores: scores)
            }
        }
    }
}
