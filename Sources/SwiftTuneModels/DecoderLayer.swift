import SwiftTuneNN
import SwiftTuneTensor

/// What every layer of one forward pass shares: the packed batch layout and the rotary table.
struct LayerContext {
    /// i32 `[N]`
    let positions: Tensor
    /// i32 `[S + 1]`
    let sequenceStarts: Tensor
    /// f32 `[headDim / 2]`
    let inverseFrequencies: Tensor
    let attentionScaling: Float
    /// The step's dropout seed for LoRA side paths (nil: evaluation, no dropout).
    let dropoutSeed: UInt64?
    /// Whether attached adapters' side paths run (false: the base model, `withAdaptersDisabled`).
    var adapters: Bool = true
    /// Generation: where the new tokens' keys and values go and which cached positions each attends to. With it,
    /// a layer given its cache attends over the cache (`sequenceStarts` is unused).
    var paged: DeviceKVCacheBatch? = nil
}

/// One layer's part of a `KVCache`: keys and values `[blocks, blockSize, Hkv, hd]`.
struct LayerCache {
    let key: Tensor
    let value: Tensor
}

/// The activations a layer keeps for its backward pass (all token-major, N = tokens).
struct LayerActivations {
    let input: Tensor  // (N, D)
    let normed1: Tensor  // (N, D)
    let inverseRMS1: Tensor  // (N)
    let queryProjected: Tensor?  // (N·Hq, hd) before q_norm (Qwen3)
    let keyProjected: Tensor?  // (N·Hkv, hd) before k_norm
    let queryInverseRMS: Tensor?  // (N·Hq)
    let keyInverseRMS: Tensor?  // (N·Hkv)
    let query: Tensor  // (N, Hq, hd) after RoPE
    let key: Tensor  // (N, Hkv, hd) after RoPE
    let value: Tensor  // (N, Hkv, hd)
    let attention: Tensor  // (N, Hq, hd)
    let logSumExp: Tensor  // (N, Hq)
    let residual: Tensor  // (N, D) input + attention block
    let normed2: Tensor  // (N, D)
    let inverseRMS2: Tensor  // (N)
    let gate: Tensor  // (N, F)
    let up: Tensor  // (N, F)
    let activated: Tensor  // (N, F) silu(gate)·up
}

/// One pre-norm decoder layer: `h + Attn(RMSNorm(h))`, then `h + MLP(RMSNorm(h))`, with SwiGLU MLP,
/// grouped-query attention, optional q/k/v bias (Qwen2), q/k RMSNorm (Qwen3) and a sliding window (Mistral).
public struct DecoderLayer: Sendable {
    public let inputLayernorm: Parameter
    public internal(set) var qProj: Linear
    public internal(set) var kProj: Linear
    public internal(set) var vProj: Linear
    public internal(set) var oProj: Linear
    public let qNorm: Parameter?
    public let kNorm: Parameter?
    public let postAttentionLayernorm: Parameter
    public internal(set) var gateProj: Linear
    public internal(set) var upProj: Linear
    public internal(set) var downProj: Linear

    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let epsilon: Float
    let slidingWindow: Int?

    var attentionScale: Float { 1 / Float(headDim).squareRoot() }

    /// Every parameter of the layer, in checkpoint order.
    public var parameters: [Parameter] {
        [inputLayernorm, qProj.denseWeight, qProj.bias, kProj.denseWeight, kProj.bias, vProj.denseWeight, vProj.bias,
         oProj.denseWeight, oProj.bias, qNorm, kNorm, postAttentionLayernorm,
         gateProj.denseWeight, gateProj.bias, upProj.denseWeight, upProj.bias, downProj.denseWeight, downProj.bias]
            .compactMap { $0 }
    }

    /// The seven linear modules by their name under the layer (`self_attn.q_proj`, …), in checkpoint order.
    static var linearKeyPaths: [(name: String, keyPath: WritableKeyPath<DecoderLayer, Linear>)] {
        [("self_attn.q_proj", \.qProj), ("self_attn.k_proj", \.kProj), ("self_attn.v_proj", \.vProj),
         ("self_attn.o_proj", \.oProj), ("mlp.gate_proj", \.gateProj), ("mlp.up_proj", \.upProj),
         ("mlp.down_proj", \.downProj)]
    }

    /// hidden `[N, D]` → `[N, D]`; with `keep`, also the activations for `backward`.
    ///
    /// With `cache` (and `context.paged`), the new keys and values are written into the cache and attention reads
    /// the cache: generation, where nothing is kept for a backward pass.
    func forward(_ x: Tensor, context: LayerContext, keep: Bool,
                 cache: LayerCache? = nil) throws -> (Tensor, LayerActivations?) {
        let backend = x.backend
        let n = x.size(0)
        // Attention block.
        let inverseRMS1 = try backend.empty([n], dtype: .f32)
        let normed1 = try backend.empty(x.shape, dtype: x.dtype)
        try backend.rmsNorm(x, weight: inputLayernorm.compute, epsilon: epsilon, into: normed1, inverseRMS: inverseRMS1)
        let seed = context.dropoutSeed, adapters = context.adapters
        var q = try qProj.forward(normed1, dropoutSeed: seed, adapters: adapters)  //  (N, Hq·hd)
        var k = try kProj.forward(normed1, dropoutSeed: seed, adapters: adapters)  // (N, Hkv·hd)
        let v = try vProj.forward(normed1, dropoutSeed: seed, adapters: adapters).reshaped([n, kvHeads, headDim])
        var queryProjected: Tensor?, keyProjected: Tensor?, queryInverseRMS: Tensor?, keyInverseRMS: Tensor?
        if let qNorm, let kNorm {
            // Qwen3: RMSNorm over each head's vector, before RoPE.
            let qp = try q.reshaped([n * heads, headDim]), kp = try k.reshaped([n * kvHeads, headDim])
            let qr = try backend.empty([n * heads], dtype: .f32), kr = try backend.empty([n * kvHeads], dtype: .f32)
            let qn = try backend.empty(qp.shape, dtype: x.dtype), kn = try backend.empty(kp.shape, dtype: x.dtype)
            try backend.rmsNorm(qp, weight: qNorm.compute, epsilon: epsilon, into: qn, inverseRMS: qr)
            try backend.rmsNorm(kp, weight: kNorm.compute, epsilon: epsilon, into: kn, inverseRMS: kr)
            (queryProjected, keyProjected, queryInverseRMS, keyInverseRMS) = (qp, kp, qr, kr)
            (q, k) = (qn, kn)
        }
        let query = try backend.empty([n, heads, headDim], dtype: x.dtype)
        let key = try backend.empty([n, kvHeads, headDim], dtype: x.dtype)
        try backend.rope(q.reshaped(query.shape), positions: context.positions,
                         inverseFrequencies: context.inverseFrequencies, attentionScaling: context.attentionScaling,
                         inverse: false, into: query)
        try backend.rope(k.reshaped(key.shape), positions: context.positions,
                         inverseFrequencies: context.inverseFrequencies, attentionScaling: context.attentionScaling,
                         inverse: false, into: key)
        let attention = try backend.empty([n, heads, headDim], dtype: x.dtype)
        if let cache, let paged = context.paged {
            guard !keep else {
                throw TensorError.invalidArgument(op: "DecoderLayer.forward", reason: "a cached forward keeps no activations")
            }
            try backend.writeKeyValueCache(key: key, value: v, slots: paged.slots, keyCache: cache.key,
                                           valueCache: cache.value)
            try backend.pagedAttention(query: query, keyCache: cache.key, valueCache: cache.value,
                                       blockTables: paged.blockTables, contextLengths: paged.contextLengths,
                                       queryStarts: paged.queryStarts, slidingWindow: slidingWindow,
                                       scale: attentionScale, into: attention)
            return (try mlpBlock(attention: attention, input: x, seed: seed, adapters: adapters).output, nil)
        }
        let logSumExp = try backend.empty([n, heads], dtype: .f32)
        try backend.attention(query: query, key: key, value: v, sequenceStarts: context.sequenceStarts,
                              slidingWindow: slidingWindow, scale: attentionScale, into: attention, logSumExp: logSumExp)
        let block = try mlpBlock(attention: attention, input: x, seed: seed, adapters: adapters)
        guard keep else { return (block.output, nil) }
        return (block.output, LayerActivations(
            input: x, normed1: normed1, inverseRMS1: inverseRMS1, queryProjected: queryProjected,
            keyProjected: keyProjected, queryInverseRMS: queryInverseRMS, keyInverseRMS: keyInverseRMS,
            query: query, key: key, value: v, attention: attention, logSumExp: logSumExp, residual: block.residual,
            normed2: block.normed2, inverseRMS2: block.inverseRMS2, gate: block.gate, up: block.up,
            activated: block.activated))
    }

    /// The rest of the layer after attention: `residual = x + o(attention)`, then `residual + MLP(RMSNorm(residual))`.
    private func mlpBlock(attention: Tensor, input x: Tensor, seed: UInt64?, adapters: Bool) throws
        -> (output: Tensor, residual: Tensor, normed2: Tensor, inverseRMS2: Tensor, gate: Tensor, up: Tensor,
            activated: Tensor) {
        let backend = x.backend
        let n = x.size(0)
        let residual = try oProj.forward(attention.reshaped([n, heads * headDim]), dropoutSeed: seed, adapters: adapters)  // (N, D)
        try backend.add(residual, x, scale: 1, into: residual)
        let inverseRMS2 = try backend.empty([n], dtype: .f32)
        let normed2 = try backend.empty(x.shape, dtype: x.dtype)
        try backend.rmsNorm(residual, weight: postAttentionLayernorm.compute, epsilon: epsilon, into: normed2,
                            inverseRMS: inverseRMS2)
        let gate = try gateProj.forward(normed2, dropoutSeed: seed, adapters: adapters), up = try upProj.forward(normed2, dropoutSeed: seed, adapters: adapters)
        let activated = try backend.empty(gate.shape, dtype: gate.dtype)  // (N, F)
        try backend.swiglu(gate: gate, up: up, into: activated)
        let output = try downProj.forward(activated, dropoutSeed: seed, adapters: adapters)
        try backend.add(output, residual, scale: 1, into: output)
        return (output, residual, normed2, inverseRMS2, gate, up, activated)
    }

    /// Accumulates the gradients of trainable parameters and returns `dL/dinput` `[N, D]`.
    func backward(_ a: LayerActivations, gradOutput dy: Tensor, context: LayerContext) throws -> Tensor {
        let backend = dy.backend
        let n = dy.size(0)
        let seed = context.dropoutSeed, adapters = context.adapters
        // MLP block: output = residual + down(swiglu(gate(n2), up(n2))).
        let dActivated = try downProj.backward(input: a.activated, gradOutput: dy, dropoutSeed: seed, adapters: adapters)
        let dGate = try backend.empty(a.gate.shape, dtype: dy.dtype), dUp = try backend.empty(a.up.shape, dtype: dy.dtype)
        try backend.swigluBackward(gate: a.gate, up: a.up, gradOutput: dActivated, into: dGate, gradUp: dUp)
        let dNormed2 = try gateProj.backward(input: a.normed2, gradOutput: dGate, dropoutSeed: seed, adapters: adapters)
        try upProj.backward(input: a.normed2, gradOutput: dUp, accumulateInto: dNormed2, dropoutSeed: seed, adapters: adapters)
        let dResidual = try backend.empty(dy.shape, dtype: dy.dtype)
        try backend.rmsNormBackward(a.residual, weight: postAttentionLayernorm.compute, inverseRMS: a.inverseRMS2,
                                    gradOutput: dNormed2, into: dResidual, gradWeight: postAttentionLayernorm.gradient)
        try backend.add(dResidual, dy, scale: 1, into: dResidual)
        // Attention block: residual = input + o(attention(rope(q), rope(k), v)).
        let dAttention = try oProj.backward(input: a.attention.reshaped([n, heads * headDim]), gradOutput: dResidual,
                                            dropoutSeed: seed, adapters: adapters)
        let dQuery = try backend.empty(a.query.shape, dtype: dy.dtype), dKey = try backend.empty(a.key.shape, dtype: dy.dtype)
        let dValue = try backend.empty(a.value.shape, dtype: dy.dtype)
        try backend.attentionBackward(
            query: a.query, key: a.key, value: a.value, output: a.attention, logSumExp: a.logSumExp,
            gradOutput: dAttention.reshaped(a.attention.shape), sequenceStarts: context.sequenceStarts,
            slidingWindow: slidingWindow, scale: attentionScale, into: dQuery, gradKey: dKey, gradValue: dValue)
        try backend.rope(dQuery, positions: context.positions, inverseFrequencies: context.inverseFrequencies,
                         attentionScaling: context.attentionScaling, inverse: true, into: dQuery)
        try backend.rope(dKey, positions: context.positions, inverseFrequencies: context.inverseFrequencies,
                         attentionScaling: context.attentionScaling, inverse: true, into: dKey)
        var dq = try dQuery.reshaped([n, heads * headDim]), dk = try dKey.reshaped([n, kvHeads * headDim])
        if let qNorm, let kNorm, let qp = a.queryProjected, let kp = a.keyProjected,
           let qr = a.queryInverseRMS, let kr = a.keyInverseRMS {
            let dqp = try backend.empty(qp.shape, dtype: dy.dtype), dkp = try backend.empty(kp.shape, dtype: dy.dtype)
            try backend.rmsNormBackward(qp, weight: qNorm.compute, inverseRMS: qr, gradOutput: dQuery.reshaped(qp.shape),
                                        into: dqp, gradWeight: qNorm.gradient)
            try backend.rmsNormBackward(kp, weight: kNorm.compute, inverseRMS: kr, gradOutput: dKey.reshaped(kp.shape),
                                        into: dkp, gradWeight: kNorm.gradient)
            dq = try dqp.reshaped(dq.shape)
            dk = try dkp.reshaped(dk.shape)
        }
        let dNormed1 = try qProj.backward(input: a.normed1, gradOutput: dq, dropoutSeed: seed, adapters: adapters)
        try kProj.backward(input: a.normed1, gradOutput: dk, accumulateInto: dNormed1, dropoutSeed: seed, adapters: adapters)
        try vProj.backward(input: a.normed1, gradOutput: dValue.reshaped([n, kvHeads * headDim]),
                           accumulateInto: dNormed1, dropoutSeed: seed, adapters: adapters)
        let dInput = try backend.empty(dy.shape, dtype: dy.dtype)
        try backend.rmsNormBackward(a.input, weight: inputLayernorm.compute, inverseRMS: a.inverseRMS1,
                                    gradOutput: dNormed1, into: dInput, gradWeight: inputLayernorm.gradient)
        try backend.add(dInput, dResidual, scale: 1, into: dInput)
        return dInput
    }
}
