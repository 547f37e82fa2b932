import SwiftTuneTensor

extension KernelFunction {
    /// `attention.cu`.
    static let attentionFunctions: [KernelFunction] = [
        attentionForward, attentionBackwardDelta, attentionBackwardQuery, attentionBackwardKeyValue,
    ] + flashFunctions
    static let attentionForward = KernelFunction(.attention, "attention_forward", dtypes: [.f32])
    static let attentionBackwardDelta = KernelFunction(.attention, "attention_backward_delta", dtypes: [.f32])
    static let attentionBackwardQuery = KernelFunction(.attention, "attention_backward_query", dtypes: [.f32])
    static let attentionBackwardKeyValue = KernelFunction(.attention, "attention_backward_key_value", dtypes: [.f32])
}

/// Causal, packed, grouped-query attention with an optional sliding window, and its backward pass.
///
/// The kernels are the simple kind: one thread block per (query token, head) for the forward pass and for
/// gradQuery, one per (key token, key-value head) for gradKey and gradValue, scores recomputed from the inputs and
/// the saved log-sum-exp (no `[N, N]` buffer), no atomics, so results are deterministic. bf16 tensors go to the
/// tensor-core flash kernels instead (CUDABackend+FlashAttention.swift).
extension CUDABackend {
    /// `sequenceStarts` is not read on the host; it must be well formed (0, increasing, ending at N).
    public func attention(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor,
                          slidingWindow: Int?, scale: Float, into out: Tensor, logSumExp: Tensor?) throws {
        let op = "attention"
        let size = try OpCheck.attention(query: query, key: key, value: value, sequenceStarts: sequenceStarts,
                                         slidingWindow: slidingWindow, out: out, logSumExp: logSumExp)
        try Self.checkAttentionLimits(size, sequenceStarts: sequenceStarts, op, query: query)
        guard size.tokens > 0, size.queryHeads > 0 else { return }
        try context.makeCurrent()
        if query.dtype == .bf16, !FlashAttention.headDims.contains(size.headDim) {
            return try attentionThroughF32(query: query, key: key, value: value, sequenceStarts: sequenceStarts,
                                           slidingWindow: slidingWindow, scale: scale, out: out, logSumExp: logSumExp)
        }
        if query.dtype == .bf16 {
            return try flashAttention(query: query, key: key, value: value, sequenceStarts: sequenceStarts, size: size,
                                      window: Self.window(slidingWindow), scale: scale, out: out, logSumExp: logSumExp)
        }
        try launch(.attentionForward, query.dtype, grid: (size.tokens, size.queryHeads),
                   block: KernelLimits.attentionBlock(headDim: size.headDim), [
            .pointer(address(out, op)), .pointer(address(logSumExp, op)),
            .pointer(address(query, op)), .pointer(address(key, op)), .pointer(address(value, op)),
            .pointer(address(sequenceStarts, op)), .int(size.sequences), .int(size.queryHeads),
            .int(size.keyValueHeads), .int(size.headDim), .int(Self.window(slidingWindow)), .float32(scale),
        ])
    }

    public func attentionBackward(query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                                  gradOutput: Tensor, sequenceStarts: Tensor, slidingWindow: Int?, scale: Float,
                                  into gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor) throws {
        let op = "attentionBackward"
        let size = try OpCheck.attentionBackward(
            query: query, key: key, value: value, output: output, logSumExp: logSumExp, gradOutput: gradOutput,
            sequenceStarts: sequenceStarts, slidingWindow: slidingWindow, gradQuery: gradQuery, gradKey: gradKey,
            gradValue: gradValue)
        try Self.checkAttentionLimits(size, sequenceStarts: sequenceStarts, op, query: query)
        guard size.tokens > 0, size.queryHeads > 0 else { return }
        try context.makeCurrent()
        if query.dtype == .bf16, !FlashAttention.headDims.contains(size.headDim) {
            return try attentionBackwardThroughF32(
                query: query, key: key, value: value, output: output, logSumExp: logSumExp, gradOutput: gradOutput,
                sequenceStarts: sequenceStarts, slidingWindow: slidingWindow, scale: scale, gradQuery: gradQuery,
                gradKey: gradKey, gradValue: gradValue)
        }
        if query.dtype == .bf16 {
            return try flashAttentionBackward(
                query: query, key: key, value: value, output: output, logSumExp: logSumExp, gradOutput: gradOutput,
                sequenceStarts: sequenceStarts, size: size, window: Self.window(slidingWindow), scale: scale,
                gradQuery: gradQuery, gradKey: gradKey, gradValue: gradValue)
        }

        // delta[i, h] = gradOutput[i, h] · output[i, h]  (N, Hq). Freed stream-ordered, so it must stay alive until
        // the kernels that read it are queued: Swift may otherwise release it right after its last use.
        let delta = try allocate(shape: [size.tokens, size.queryHeads], dtype: .f32, zeroed: false)
        let rows = size.tokens * size.queryHeads
        let block = KernelLimits.attentionBlock(headDim: size.headDim)
        try withExtendedLifetime(delta) {
            try launch(.attentionBackwardDelta, query.dtype, grid: ((rows + 255) / 256, 1), block: 256, [
                .pointer(address(delta, op)), .pointer(address(output, op)), .pointer(address(gradOutput, op)),
                .long(rows), .int(size.headDim),
            ])
            let common: [KernelArgument] = try [
                .pointer(address(query, op)), .pointer(address(key, op)), .pointer(address(value, op)),
                .pointer(address(logSumExp, op)), .pointer(address(delta, op)), .pointer(address(gradOutput, op)),
                .pointer(address(sequenceStarts, op)), .int(size.sequences), .int(size.queryHeads),
                .int(size.keyValueHeads), .int(size.headDim), .int(Self.window(slidingWindow)), .float32(scale),
            ]
            try launch(.attentionBackwardQuery, query.dtype, grid: (size.tokens, size.queryHeads), block: block,
                       [.pointer(address(gradQuery, op))] + common)
            try launch(.attentionBackwardKeyValue, query.dtype, grid: (size.tokens, size.keyValueHeads), block: block,
                       [.pointer(address(gradKey, op)), .pointer(address(gradValue, op))] + common)
        }
    }

    /// The kernels' own limits on a checked attention call.
    private static func checkAttentionLimits(_ size: OpCheck.AttentionShape, sequenceStarts: Tensor, _ op: String,
                                             query: Tensor) throws {
        try KernelLimits.attentionHeads(headDim: size.headDim, queryHeads: size.queryHeads, op, query: query)
        try KernelLimits.fitsInt32([size.tokens, size.queryHeads, sequenceStarts.count], op, query.shape)
    }

    /// The `window` argument of the attention kernels: the sliding window, or 0 for none.
    static func window(_ slidingWindow: Int?) -> Int { min(slidingWindow ?? 0, Int(Int32.max)) }
}
