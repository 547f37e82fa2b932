import SwiftTuneTensor

/// Packed causal attention: validation, bf16 tensors staged through f32 (`F32Staging`), then `CPUKernels.attentionForward` per (sequence, query head) and
/// `CPUKernels.attentionBackward` per (sequence, kv head), the units that own disjoint output rows.
extension CPUBackend {
    public func attention(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor,
                          slidingWindow: Int?, scale: Float, into out: Tensor, logSumExp: Tensor?) throws {
        let op = "attention"
        let shape = AttentionShape(try OpCheck.attention(
            query: query, key: key, value: value, sequenceStarts: sequenceStarts, slidingWindow: slidingWindow, out: out,
            logSumExp: logSumExp))
        let ranges = try sequences(sequenceStarts, tokens: shape.tokens, op)
        let longest = ranges.map(\.count).max() ?? 0
        let scoreCount = max(1, min(longest, slidingWindow ?? longest))
        let heads = shape.queryHeads
        try staged { s in
            let q = SendablePointer(try s.input(query, "\(op) query")), k = SendablePointer(try s.input(key, "\(op) key"))
            let v = SendablePointer(try s.input(value, "\(op) value")), o = SendablePointer(try s.output(out, "\(op) out"))
            let lse = try logSumExp.map { SendablePointer(try f32($0, "\(op) logSumExp")) }
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
    }

    public func attentionBackward(query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                                  gradOutput: Tensor, sequenceStarts: Tensor, slidingWindow: Int?, scale: Float,
                                  into gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor) throws {
        let op = "attentionBackward"
        let shape = AttentionShape(try OpCheck.attentionBackward(
            query: query, key: key, value: value, output: output, logSumExp: logSumExp, gradOutput: gradOutput,
            sequenceStarts: sequenceStarts, slidingWindow: slidingWindow, gradQuery: gradQuery, gradKey: gradKey,
            gradValue: gradValue))
        let ranges = try sequences(sequenceStarts, tokens: shape.tokens, op)
        let kvHeads = shape.kvHeads
        try staged { s in
            let q = SendablePointer(try s.input(query, "\(op) query")), k = SendablePointer(try s.input(key, "\(op) key"))
            let v = SendablePointer(try s.input(value, "\(op) value"))
            let o = SendablePointer(try s.input(output, "\(op) output"))
            let lse = SendablePointer(try f32(logSumExp, "\(op) logSumExp"))
            let dO = SendablePointer(try s.input(gradOutput, "\(op) gradOutput"))
            let dQ = SendablePointer(try s.output(gradQuery, "\(op) gradQuery"))
            let dK = SendablePointer(try s.output(gradKey, "\(op) gradKey"))
            let dV = SendablePointer(try s.output(gradValue, "\(op) gradValue"))
            parallelFor(ranges.count * kvHeads) { items in
                for item in items {
                    CPUKernels.attentionBackward(
                        query: q.pointer, key: k.pointer, value: v.pointer, output: o.pointer, logSumExp: lse.pointer,
                        gradOutput: dO.pointer, shape: shape, sequence: ranges[item / kvHeads], kvHead: item % kvHeads,
                        window: slidingWindow, scale: scale, into: dQ.pointer, gradKey: dK.pointer,
                        gradValue: dV.pointer)
                }
            }
        }
    }
}

extension AttentionShape {
    /// The kernels' sizes from the shared check's.
    init(_ size: OpCheck.AttentionShape) {
        self.init(tokens: size.tokens, queryHeads: size.queryHeads, kvHeads: size.keyValueHeads, headDim: size.headDim)
    }
}
