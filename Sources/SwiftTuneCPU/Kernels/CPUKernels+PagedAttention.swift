// Attention over a paged KV cache (the layout of vLLM's PagedAttention, Kwon et al. 2023,
// https://arxiv.org/abs/2309.06180): each layer's keys and values live in fixed-size blocks
// `[blocks, blockSize, Hkv, hd]`, and a per-sequence block table maps position p to block
// `table[p / blockSize]`, offset `p % blockSize`. The math per query row is `attentionForward`'s.

/// Sizes of a paged attention problem: query and out `[tokens, queryHeads, headDim]`, each cache
/// `[blocks, blockSize, kvHeads, headDim]`, block tables `[sequences, maxBlocks]`.
struct PagedAttentionShape: Sendable, Equatable {
    var queryHeads: Int
    var kvHeads: Int
    var headDim: Int
    var blockSize: Int
    var maxBlocks: Int

    /// Query heads per kv head; query head `h` reads kv head `h / groupSize`.
    var groupSize: Int { queryHeads / kvHeads }

    /// Offset of the `kvHead` row of cache position `position` of the sequence whose block table is `table`.
    @inline(__always)
    func cacheOffset(position: Int, table: UnsafePointer<Int32>, kvHead: Int) -> Int {
        let slot = Int(table[position / blockSize]) * blockSize + position % blockSize
        return (slot * kvHeads + kvHead) * headDim
    }
}

extension CPUKernels {
    /// `keyCache[slots[n]] = key[n]`, `valueCache[slots[n]] = value[n]` for rows `n` in `tokens` with a slot ≥ 0.
    ///
    /// key, value `[N, rowWidth]`; caches `[slots, rowWidth]` with `rowWidth = Hkv · hd`. Distinct slots make
    /// rows independent, so ranges of rows run in parallel.
    static func writeKeyValueCache<T>(
        key: UnsafePointer<T>, value: UnsafePointer<T>, slots: UnsafePointer<Int32>, rowWidth: Int,
        keyCache: UnsafeMutablePointer<T>, valueCache: UnsafeMutablePointer<T>, tokens: Range<Int>
    ) {
        for n in tokens where slots[n] >= 0 {
            let slot = Int(slots[n])
            (keyCache + slot * rowWidth).update(from: key + n * rowWidth, count: rowWidth)
            (valueCache + slot * rowWidth).update(from: value + n * rowWidth, count: rowWidth)
        }
    }

    /// One query row: token `row` (at cache position `position` of the sequence with block table `table`) in
    /// query head `head` attends to positions `max(0, position − window + 1)...position`.
    ///
    /// Writes out row `[row, head, :]`. `scores` is scratch for at least `min(position + 1, window)` values.
    static func pagedAttentionRow<T: KernelScalar>(
        query: UnsafePointer<T>, keyCache: UnsafePointer<T>, valueCache: UnsafePointer<T>, shape: PagedAttentionShape,
        table: UnsafePointer<Int32>, row: Int, position: Int, head: Int, window: Int?, scale: T,
        into out: UnsafeMutablePointer<T>, scores: UnsafeMutablePointer<T>
    ) {
        let hd = shape.headDim, kvHead = head / shape.groupSize
        let q = query + (row * shape.queryHeads + head) * hd
        let first = window.map { max(0, position - $0 + 1) } ?? 0
        let keys = first...position
        // scores[slot] = scale · q·k_j, then exp(score − max) in place (the order of attentionForward).
        var maxScore = -T.infinity
        for (slot, j) in keys.enumerated() {
            let score = scale * dot(q, keyCache + shape.cacheOffset(position: j, table: table, kvHead: kvHead), count: hd)
            scores[slot] = score
            maxScore = max(maxScore, score)
        }
        var sum: T = 0
        for slot in 0..<keys.count {
            let p = T.exp(scores[slot] - maxScore)
            scores[slot] = p
            sum += p
        }
        let o = out + (row * shape.queryHeads + head) * hd
        o.update(repeating: 0, count: hd)
        for (slot, j) in keys.enumerated() {
            axpy(scores[slot], valueCache + shape.cacheOffset(position: j, table: table, kvHead: kvHead), into: o, count: hd)
        }
        let inverseSum = 1 / sum
        for d in 0..<hd { o[d] *= inverseSum }
    }
}
