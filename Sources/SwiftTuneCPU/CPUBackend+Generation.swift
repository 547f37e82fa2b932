import SwiftTuneTensor

/// The paged KV cache ops: validation (every index the kernels will follow is checked on the host), then
/// `CPUKernels.writeKeyValueCache` over rows and `CPUKernels.pagedAttentionRow` per (new token, query head).
extension CPUBackend {
    public func writeKeyValueCache(key: Tensor, value: Tensor, slots: Tensor, keyCache: Tensor,
                                   valueCache: Tensor) throws {
        let op = "writeKeyValueCache"
        let size = try OpCheck.writeKeyValueCache(key: key, value: value, slots: slots, keyCache: keyCache,
                                                  valueCache: valueCache)
        let (tokens, rowWidth, slotCount) = (size.tokens, size.rowWidth, size.slots)
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
        // A scatter of whole rows: bf16 rows are copied as they are (the bits staging would give), so a write never
        // widens the whole cache.
        if key.dtype == .bf16 {
            try writeRows(UInt16.self, key: key, value: value, slots: slot, rowWidth: rowWidth, keyCache: keyCache,
                          valueCache: valueCache, op)
        } else {
            try writeRows(Float.self, key: key, value: value, slots: slot, rowWidth: rowWidth, keyCache: keyCache,
                          valueCache: valueCache, op)
        }
    }

    /// `CPUKernels.writeKeyValueCache` over rows of `Element`s (f32 values or bf16 bits).
    private func writeRows<Element>(_: Element.Type, key: Tensor, value: Tensor, slots: SendablePointer<Int32>,
                                    rowWidth: Int, keyCache: Tensor, valueCache: Tensor, _ op: String) throws {
        func elements(_ tensor: Tensor) throws -> SendablePointer<Element> {
            SendablePointer(try raw(tensor).bindMemory(to: Element.self, capacity: tensor.count))
        }
        let (k, v, kc, vc) = (try elements(key), try elements(value), try elements(keyCache), try elements(valueCache))
        parallelFor(key.size(0), grain: max(1, Self.elementwiseGrain / max(rowWidth, 1))) { range in
            CPUKernels.writeKeyValueCache(key: k.pointer, value: v.pointer, slots: slots.pointer, rowWidth: rowWidth,
                                          keyCache: kc.pointer, valueCache: vc.pointer, tokens: range)
        }
    }

    public func pagedAttention(query: Tensor, keyCache: Tensor, valueCache: Tensor, blockTables: Tensor,
                               contextLengths: Tensor, queryStarts: Tensor, slidingWindow: Int?, scale: Float,
                               into out: Tensor) throws {
        let op = "pagedAttention"
        let size = try OpCheck.pagedAttention(
            query: query, keyCache: keyCache, valueCache: valueCache, blockTables: blockTables,
            contextLengths: contextLengths, queryStarts: queryStarts, slidingWindow: slidingWindow, out: out)
        let (tokens, blocks) = (size.tokens, size.blocks)
        let shape = PagedAttentionShape(queryHeads: size.queryHeads, kvHeads: size.keyValueHeads, headDim: size.headDim,
                                        blockSize: size.blockSize, maxBlocks: size.maxBlocks)
        let ranges = try sequences(queryStarts, tokens: tokens, op)
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
        let longest = rowPosition.max().map { $0 + 1 } ?? 1
        let scoreCount = max(1, min(longest, slidingWindow ?? longest))
        let heads = shape.queryHeads
        let (sequenceOf, positionOf) = (rowSequence, rowPosition)
        // A bf16 cache is widened whole for the call: simple, and the CPU's bf16 generation is a reference, not a
        // fast path.
        try staged { s in
            let q = SendablePointer(try s.input(query, "\(op) query")), o = SendablePointer(try s.output(out, "\(op) out"))
            let kc = SendablePointer(try s.input(keyCache, "\(op) keyCache"))
            let vc = SendablePointer(try s.input(valueCache, "\(op) valueCache"))
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
}
