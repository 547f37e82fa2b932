/// Packed causal attention and its backward pass (`Backend.attention`, `attentionBackward`).
extension OpCheck {
    /// The sizes of a packed attention call: query `[tokens, queryHeads, headDim]`, key and value
    /// `[tokens, keyValueHeads, headDim]`, `sequences` packed sequences.
    public struct AttentionShape: Sendable, Equatable {
        public var tokens: Int
        public var queryHeads: Int
        public var keyValueHeads: Int
        public var headDim: Int
        public var sequences: Int
    }

    /// `attention`: query and out `[N, Hq, hd]`, key and value `[N, Hkv, hd]` with Hkv dividing Hq, sequenceStarts
    /// i32 `[S + 1]`, logSumExp `[N, Hq]` when given, a window ≥ 1 when given.
    public static func attention(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor, slidingWindow: Int?,
                                 out: Tensor, logSumExp: Tensor?) throws -> AttentionShape {
        let op = "attention"
        let size = try attentionInputs(query: query, key: key, value: value, sequenceStarts: sequenceStarts,
                                       slidingWindow: slidingWindow, op)
        try same(out, as: query, op, "out")
        try shape(out, query.shape, op, "out")
        if let logSumExp {
            try float(op, (logSumExp, "logSumExp"))
            try shape(logSumExp, [size.tokens, size.queryHeads], op, "logSumExp")
        }
        return size
    }

    /// `attentionBackward`: `attention`'s inputs, output and gradOutput and gradQuery of query's shape, logSumExp
    /// `[N, Hq]`, gradKey and gradValue of key's shape.
    public static func attentionBackward(query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                                         gradOutput: Tensor, sequenceStarts: Tensor, slidingWindow: Int?,
                                         gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor) throws -> AttentionShape {
        let op = "attentionBackward"
        let size = try attentionInputs(query: query, key: key, value: value, sequenceStarts: sequenceStarts,
                                       slidingWindow: slidingWindow, op)
        try float(op, (logSumExp, "logSumExp"))
        for (tensor, argument) in [(output, "output"), (gradOutput, "gradOutput"), (gradQuery, "gradQuery"),
                                   (gradKey, "gradKey"), (gradValue, "gradValue")] {
            try same(tensor, as: query, op, argument)
        }
        try shape(output, query.shape, op, "output")
        try shape(logSumExp, [size.tokens, size.queryHeads], op, "logSumExp")
        try shape(gradOutput, query.shape, op, "gradOutput")
        try shape(gradQuery, query.shape, op, "gradQuery")
        try shape(gradKey, key.shape, op, "gradKey")
        try shape(gradValue, key.shape, op, "gradValue")
        return size
    }

    /// Query `[N, Hq, hd]`, key and value `[N, Hkv, hd]` with Hkv dividing Hq, the window and the sequence starts.
    private static func attentionInputs(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor,
                                        slidingWindow: Int?, _ op: String) throws -> AttentionShape {
        try storage(op, (query, "query"), (key, "key"), (value, "value"))
        try rank(query, 3, op, "query", layout: "[N, Hq, hd]")
        try rank(key, 3, op, "key", layout: "[N, Hkv, hd]")
        let (tokens, queryHeads, headDim) = (query.size(0), query.size(1), query.size(2))
        let keyValueHeads = key.size(1)
        guard key.size(0) == tokens, key.size(2) == headDim, keyValueHeads > 0, queryHeads % keyValueHeads == 0 else {
            throw TensorError.shapeMismatch(
                op: "\(op) key", expected: "[\(tokens), Hkv, \(headDim)] with Hkv dividing Hq = \(queryHeads)",
                got: key.shape)
        }
        try shape(value, key.shape, op, "value")
        try window(slidingWindow, op)
        let sequences = try offsets(sequenceStarts, op, "sequenceStarts")
        return AttentionShape(tokens: tokens, queryHeads: queryHeads, keyValueHeads: keyValueHeads, headDim: headDim,
                              sequences: sequences)
    }
}
