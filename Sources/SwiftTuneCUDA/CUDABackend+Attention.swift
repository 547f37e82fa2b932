import SwiftTuneTensor

/// Causal, packed, grouped-query attention with an optional sliding window, and its backward pass.
///
/// The kernels are the simple kind: one thread block per (query token, head) for the forward pass and for
/// gradQuery, one per (key token, key-value head) for gradKey and gradValue, scores recomputed from the inputs and
/// the saved log-sum-exp (no `[N, N]` buffer), no atomics, so results are deterministic.
extension CUDABackend {
    /// The shapes shared by `attention` and `attentionBackward`, checked on the host.
    struct AttentionShape {
        var tokens: Int
        var queryHeads: Int
        var keyValueHeads: Int
        var headDim: Int
        var sequences: Int
        var window: Int

        /// 128 threads cover head dimensions up to 128; larger ones (up to 256) take 256.
        var block: Int { headDim <= 128 ? 128 : 256 }
    }

    func attentionShape(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor, slidingWindow: Int?,
                        _ op: String) throws -> AttentionShape {
        try Validate.f32([(query, "query"), (key, "key"), (value, "value")], op)
        try Validate.dtype(sequenceStarts, .i32, op, "sequenceStarts")
        try Validate.rank(query, 3, op, "query", "[N, Hq, hd]")
        try Validate.rank(key, 3, op, "key", "[N, Hkv, hd]")
        let (tokens, queryHeads, headDim) = (query.shape[0], query.shape[1], query.shape[2])
        let keyValueHeads = key.shape[1]
        try Validate.shape(key, [tokens, keyValueHeads, headDim], op, "key")
        try Validate.shape(value, key.shape, op, "value")
        guard keyValueHeads > 0, queryHeads % keyValueHeads == 0 else {
            throw TensorError.shapeMismatch(op: "\(op)(key)", expected: "Hkv dividing Hq = \(queryHeads)", got: key.shape)
        }
        guard headDim >= 1, headDim <= KernelSource.maximumHeadDimension else {
            throw TensorError.shapeMismatch(op: "\(op)(query)",
                                            expected: "a head dimension in 1...\(KernelSource.maximumHeadDimension)",
                                            got: query.shape)
        }
        guard sequenceStarts.rank == 1, sequenceStarts.count >= 2 else {
            throw TensorError.shapeMismatch(op: "\(op)(sequenceStarts)", expected: "[S + 1] with S ≥ 1",
                                            got: sequenceStarts.shape)
        }
        if let slidingWindow, slidingWindow < 1 {
            throw TensorError.invalidShape([slidingWindow], reason: "\(op): slidingWindow must be at least 1")
        }
        try Validate.fitsInt32([tokens, queryHeads, sequenceStarts.count], op, query.shape)
        guard queryHeads <= 65_535 else {
            throw TensorError.shapeMismatch(op: "\(op)(query)", expected: "at most 65535 heads", got: query.shape)
        }
        return AttentionShape(tokens: tokens, queryHeads: queryHeads, keyValueHeads: keyValueHeads, headDim: headDim,
                              sequences: sequenceStarts.count - 1,
                              window: min(slidingWindow ?? 0, Int(Int32.max)))
    }

    /// `sequenceStarts` is not read on the host; it must be well formed (0, increasing, ending at N).
    public func attention(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor,
                          slidingWindow: Int?, scale: Float, into out: Tensor, logSumExp: Tensor?) throws {
        let op = "attention"
        let shape = try attentionShape(query: query, key: key, value: value, sequenceStarts: sequenceStarts,
                                       slidingWindow: slidingWindow, op)
        try Validate.dtype(out, .f32, op, "out")
        try Validate.shape(out, query.shape, op, "out")
        if let logSumExp {
            try Validate.dtype(logSumExp, .f32, op, "logSumExp")
            try Validate.shape(logSumExp, [shape.tokens, shape.queryHeads], op, "logSumExp")
        }
        guard shape.tokens > 0, shape.queryHeads > 0 else { return }
        try context.makeCurrent()
        try launch(.attentionForwardF32, grid: (shape.tokens, shape.queryHeads), block: shape.block, [
            .pointer(address(out, op)), .pointer(try logSumExp.map { try address($0, op) } ?? 0),
            .pointer(address(query, op)), .pointer(address(key, op)), .pointer(address(value, op)),
            .pointer(address(sequenceStarts, op)), .int(shape.sequences), .int(shape.queryHeads),
            .int(shape.keyValueHeads), .int(shape.headDim), .int(shape.window), .float32(scale),
        ])
    }

    public func attentionBackward(query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                                  gradOutput: Tensor, sequenceStarts: Tensor, slidingWindow: Int?, scale: Float,
                                  into gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor) throws {
        let op = "attentionBackward"
        let shape = try attentionShape(query: query, key: key, value: value, sequenceStarts: sequenceStarts,
                                       slidingWindow: slidingWindow, op)
        try Validate.f32([(output, "output"), (logSumExp, "logSumExp"), (gradOutput, "gradOutput"),
                          (gradQuery, "gradQuery"), (gradKey, "gradKey"), (gradValue, "gradValue")], op)
        try Validate.shape(output, query.shape, op, "output")
        try Validate.shape(logSumExp, [shape.tokens, shape.queryHeads], op, "logSumExp")
        try Validate.shape(gradOutput, query.shape, op, "gradOutput")
        try Validate.shape(gradQuery, query.shape, op, "gradQuery")
        try Validate.shape(gradKey, key.shape, op, "gradKey")
        try Validate.shape(gradValue, key.shape, op, "gradValue")
        guard shape.tokens > 0, shape.queryHeads > 0 else { return }
        try context.makeCurrent()

        // delta[i, h] = gradOutput[i, h] · output[i, h]  (N, Hq). Freed stream-ordered, so it must stay alive until
        // the kernels that read it are queued: Swift may otherwise release it right after its last use.
        let delta = try allocate(shape: [shape.tokens, shape.queryHeads], dtype: .f32, zeroed: false)
        let rows = shape.tokens * shape.queryHeads
        try withExtendedLifetime(delta) {
            try launch(.attentionBackwardDeltaF32, grid: ((rows + 255) / 256, 1), block: 256, [
                .pointer(address(delta, op)), .pointer(address(output, op)), .pointer(address(gradOutput, op)),
                .long(rows), .int(shape.headDim),
            ])
            let common: [KernelArgument] = try [
                .pointer(address(query, op)), .pointer(address(key, op)), .pointer(address(value, op)),
                .pointer(address(logSumExp, op)), .pointer(address(delta, op)), .pointer(address(gradOutput, op)),
                .pointer(address(sequenceStarts, op)), .int(shape.sequences), .int(shape.queryHeads),
                .int(shape.keyValueHeads), .int(shape.headDim), .int(shape.window), .float32(scale),
            ]
            try launch(.attentionBackwardQueryF32, grid: (shape.tokens, shape.queryHeads), block: shape.block,
                       [.pointer(address(gradQuery, op))] + common)
            try launch(.attentionBackwardKeyValueF32, grid: (shape.tokens, shape.keyValueHeads), block: shape.block,
                       [.pointer(address(gradKey, op)), .pointer(address(gradValue, op))] + common)
        }
    }
}
