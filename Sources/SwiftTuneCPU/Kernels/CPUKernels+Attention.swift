// Exact softmax attention over packed causal sequences with grouped-query heads
// (GQA: Ainslie et al. 2023, https://arxiv.org/abs/2305.13245). The backward pass uses the
// FlashAttention-2 formulation (Dao 2023, https://arxiv.org/abs/2307.08691): P is recomputed from the
// stored log-sum-exp, D = rowsum(dO ∘ O), dS = P ∘ (dP − D).

/// Sizes of a packed attention problem: query `[tokens, queryHeads, headDim]`,
/// key and value `[tokens, kvHeads, headDim]`, output `[tokens, queryHeads, headDim]`.
struct AttentionShape: Sendable, Equatable {
    var tokens: Int
    var queryHeads: Int
    var kvHeads: Int
    var headDim: Int

    /// Query heads per kv head; query head `h` reads kv head `h / groupSize`.
    var groupSize: Int { queryHeads / kvHeads }

    /// Offset of row `(token, head)` in a `[tokens, heads, headDim]` buffer.
    @inline(__always)
    func offset(token: Int, head: Int, heads: Int) -> Int { (token * heads + head) * headDim }
}

extension CPUKernels {
    /// The keys token `t` of `sequence` sees: `j ≤ t` in the same sequence and, with a window, `t − j < window`.
    @inline(__always)
    static func visibleKeys(of t: Int, in sequence: Range<Int>, window: Int?) -> Range<Int> {
        let lower = window.map { max(sequence.lowerBound, t - $0 + 1) } ?? sequence.lowerBound
        return lower..<(t + 1)
    }

    /// Forward attention for every query of `sequence` in query head `head`.
    ///
    /// Writes out rows `[t, head, :]` and `logSumExp[t, head]` (`[tokens, queryHeads]`) for `t` in `sequence`.
    /// `scores` is scratch for at least `min(sequence.count, window)` values. The output must not overlap
    /// the inputs.
    static func attentionForward<T: KernelScalar>(
        query: UnsafePointer<T>, key: UnsafePointer<T>, value: UnsafePointer<T>, shape: AttentionShape,
        sequence: Range<Int>, head: Int, window: Int?, scale: T,
        into out: UnsafeMutablePointer<T>, logSumExp: UnsafeMutablePointer<T>?, scores: UnsafeMutablePointer<T>
    ) {
        let hd = shape.headDim, kvHead = head / shape.groupSize
        for t in sequence {
            let q = query + shape.offset(token: t, head: head, heads: shape.queryHeads)
            let keys = visibleKeys(of: t, in: sequence, window: window)
            // scores[slot] = scale · q·k_j, then exp(score − max) in place.
            var maxScore = -T.infinity
            for (slot, j) in keys.enumerated() {
                let score = scale * dot(q, key + shape.offset(token: j, head: kvHead, heads: shape.kvHeads), count: hd)
                scores[slot] = score
                maxScore = max(maxScore, score)
            }
            var sum: T = 0
            for slot in 0..<keys.count {
                let p = T.exp(scores[slot] - maxScore)
                scores[slot] = p
                sum += p
            }
            let o = out + shape.offset(token: t, head: head, heads: shape.queryHeads)
            o.update(repeating: 0, count: hd)
            for (slot, j) in keys.enumerated() {
                axpy(scores[slot], value + shape.offset(token: j, head: kvHead, heads: shape.kvHeads), into: o, count: hd)
            }
            let inverseSum = 1 / sum
            for d in 0..<hd { o[d] *= inverseSum }
            logSumExp?[t * shape.queryHeads + head] = maxScore + T.log(sum)
        }
    }

    /// Backward attention for every query head of kv head `kvHead` over `sequence`.
    ///
    /// Overwrites gradQuery rows `[t, h, :]` (h in the group) and gradKey/gradValue rows `[j, kvHead, :]` for
    /// t, j in `sequence`; these rows belong to this (sequence, kv head) pair alone, so pairs run in parallel.
    /// dK and dV accumulate over the group's query heads. Per query row, with `p_j = exp(scale·q·k_j − lse)`:
    /// `D = dO·O`, `dS_j = p_j (dO·v_j − D)`, `dQ = scale Σ dS_j k_j`, `dK_j += scale dS_j q`, `dV_j += p_j dO`.
    static func attentionBackward<T: KernelScalar>(
        query: UnsafePointer<T>, key: UnsafePointer<T>, value: UnsafePointer<T>, output: UnsafePointer<T>,
        logSumExp: UnsafePointer<T>, gradOutput: UnsafePointer<T>, shape: AttentionShape,
        sequence: Range<Int>, kvHead: Int, window: Int?, scale: T,
        into gradQuery: UnsafeMutablePointer<T>, gradKey: UnsafeMutablePointer<T>, gradValue: UnsafeMutablePointer<T>
    ) {
        let hd = shape.headDim
        for j in sequence {
            let offset = shape.offset(token: j, head: kvHead, heads: shape.kvHeads)
            (gradKey + offset).update(repeating: 0, count: hd)
            (gradValue + offset).update(repeating: 0, count: hd)
        }
        let heads = (kvHead * shape.groupSize)..<((kvHead + 1) * shape.groupSize)
        for h in heads {
            for t in sequence {
                let row = shape.offset(token: t, head: h, heads: shape.queryHeads)
                let q = query + row, dO = gradOutput + row, dQ = gradQuery + row
                let lse = logSumExp[t * shape.queryHeads + h]
                let rowDelta = dot(dO, output + row, count: hd)
                dQ.update(repeating: 0, count: hd)
                for j in visibleKeys(of: t, in: sequence, window: window) {
                    let kv = shape.offset(token: j, head: kvHead, heads: shape.kvHeads)
                    let p = T.exp(scale * dot(q, key + kv, count: hd) - lse)
                    let dS = p * (dot(dO, value + kv, count: hd) - rowDelta)
                    axpy(scale * dS, key + kv, into: dQ, count: hd)
                    axpy(scale * dS, q, into: gradKey + kv, count: hd)
                    axpy(p, dO, into: gradValue + kv, count: hd)
                }
            }
        }
    }

    /// `Σ a[i] · b[i]` for `i < count`, in order.
    @inline(__always)
    static func dot<T: KernelScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int) -> T {
        var sum: T = 0
        for i in 0..<count { sum += a[i] * b[i] }
        return sum
    }

    /// `y[i] += alpha · x[i]` for `i < count`.
    @inline(__always)
    static func axpy<T: KernelScalar>(_ alpha: T, _ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, count: Int) {
        for i in 0..<count { y[i] += alpha * x[i] }
    }
}
