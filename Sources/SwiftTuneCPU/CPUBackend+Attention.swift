import SwiftTuneTensor

/// Packed causal attention: validation, then `CPUKernels.attentionForward` per (sequence, query head) and
/// `CPUKernels.attentionBackward` per (sequence, kv head), the units that own disjoint output rows.
extension CPUBackend {
    public func attention(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor,
                          slidingWindow: Int?, scale: Float, into out: Tensor, logSumExp: Tensor?) throws {
        let op = "attention"
        let shape = try attentionShape(query: query, key: key, value: value, slidingWindow: slidingWindow, op)
        try requireShape(out, query.shape, "\(op) out")
        if let logSumExp { try requireShape(logSumExp, [shape.tokens, shape.queryHeads], "\(op) logSumExp") }
        let ranges = try sequences(sequenceStarts, tokens: shape.tokens, op)
        let q = SendablePointer(try f32(query, "\(op) query")), k = SendablePointer(try f32(key, "\(op) key"))
        let v = SendablePointer(try f32(value, "\(op) value")), o = SendablePointer(try f32(out, "\(op) out"))
        let lse = try logSumExp.map { SendablePointer(try f32($0, "\(op) logSumExp")) }
        let longest = ranges.map(\.count).max() ?? 0
        let scoreCount = max(1, min(longest, slidingWindow ?? longest))
        let heads = shape.queryHeads
        parallelFor(ranges.count * heads) { items in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: scoreCount)
            defer { scores.deallocate() }
            for item in items {
                CPUKernels.attentionForward(
                    query: q.pointer, key: k.pointer, value: v.pointer, shape: shape,
                    sequence: ranges[item / heads], head: item % heads, window: slidingWindow, scale: scale,
                    into: o.pointer, logSumExp: lse?.pointer, scores: scores)
            }
        }
    }

    public func attentionBackward(query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                                  gradOutput: Tensor, sequenceStarts: Tensor, slidingWindow: Int?, scale: Float,
                                  into gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor) throws {
        let op = "attentionBackward"
        let shape = try attentionShape(query: query, key: key, value: value, slidingWindow: slidingWindow, op)
        try requireShape(output, query.shape, "\(op) output")
        try requireShape(logSumExp, [shape.tokens, shape.queryHeads], "\(op) logSumExp")
        try requireShape(gradOutput, query.shape, "\(op) gradOutput")
        try requireShape(gradQuery, query.shape, "\(op) gradQuery")
        try requireShape(gradKey, key.shape, "\(op) gradKey")
        try requireShape(gradValue, key.shape, "\(op) gradValue")
        let ranges = try sequences(sequenceStarts, tokens: shape.tokens, op)
        let q = SendablePointer(try f32(query, "\(op) query")), k = SendablePointer(try f32(key, "\(op) key"))
        let v = SendablePointer(try f32(value, "\(op) value")), o = SendablePointer(try f32(output, "\(op) output"))
        let lse = SendablePointer(try f32(logSumExp, "\(op) logSumExp"))
        let dO = SendablePointer(try f32(gradOutput, "\(op) gradOutput"))
        let dQ = SendablePointer(try f32(gradQuery, "\(op) gradQuery"))
        let dK = SendablePointer(try f32(gradKey, "\(op) gradKey")), dV = SendablePointer(try f32(gradValue, "\(op) gradValue"))
        let kvHeads = shape.kvHeads
        parallelFor(ranges.count * kvHeads) { items in
            for item in items {
                CPUKernels.attentionBackward(
                    query: q.pointer, key: k.pointer, value: v.pointer, output: o.pointer, logSumExp: lse.pointer,
                    gradOutput: dO.pointer, shape: shape, sequence: ranges[item / kvHeads], kvHead: item % kvHeads,
                    window: slidingWindow, scale: scale, into: dQ.pointer, gradKey: dK.pointer, gradValue: dV.pointer)
            }
        }
    }

    /// Checks query `[N, Hq, hd]`, key and value `[N, Hkv, hd]` with `Hq` a multiple of `Hkv`, and the window.
    private func attentionShape(query: Tensor, key: Tensor, value: Tensor, slidingWindow: Int?,
                                _ op: String) throws -> AttentionShape {
        try requireRank(query, 3, "\(op) query", layout: "[N, Hq, hd]")
        try requireRank(key, 3, "\(op) key", layout: "[N, Hkv, hd]")
        let shape = AttentionShape(tokens: query.size(0), queryHeads: query.size(1), kvHeads: key.size(1),
                                   headDim: query.size(2))
        guard key.size(0) == shape.tokens, key.size(2) == shape.headDim,
              shape.kvHeads > 0, shape.queryHeads % shape.kvHeads == 0 else {
            throw TensorError.shapeMismatch(
                op: "\(op) key",
                expected: "[\(shape.tokens), Hkv, \(shape.headDim)] with Hkv dividing Hq = \(shape.queryHeads)",
                got: key.shape)
        }
        try requireShape(value, key.shape, "\(op) value")
        if let slidingWindow, slidingWindow < 1 {
            throw TensorError.shapeMismatch(op: "\(op) slidingWindow", expected: "a window ≥ 1 (or nil)",
                                            got: [slidingWindow])
        }
        return shape
    }
}
