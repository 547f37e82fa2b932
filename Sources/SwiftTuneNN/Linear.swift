import SwiftTuneTensor

/// `y = x · Wᵀ + b`, with the weight in PyTorch's `[out, in]` layout, and optionally a LoRA side path
/// `+ scale · (dropout(x)·Aᵀ)·Bᵀ`.
///
/// The weight is dense (a `Parameter` in the compute dtype) or quantized (packed blocks, frozen, decoded per product):
/// a new storage kind is a new `LinearWeight` case and a branch in `product`, not a new layer type.
public struct Linear: Sendable {
    /// `[out, in]`, dense or quantized.
    public let weight: LinearWeight
    /// `[out]`, when the layer has a bias.
    public let bias: Parameter?
    /// The low-rank adapter, when one is attached (and not merged into `weight`).
    public var lora: LoRA?

    public init(weight: LinearWeight, bias: Parameter? = nil, lora: LoRA? = nil) {
        self.weight = weight
        self.bias = bias
        self.lora = lora
    }

    /// A layer with a dense weight.
    public init(weight: Parameter, bias: Parameter? = nil, lora: LoRA? = nil) {
        self.init(weight: .dense(weight), bias: bias, lora: lora)
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// The dense weight's parameter; nil when the weight is quantized.
    public var denseWeight: Parameter? { weight.parameter }

    /// Weight (when dense), bias, then the adapter's A and B: PEFT's parameter order.
    public var parameters: [Parameter] {
        [weight.parameter, bias].compactMap { $0 } + (lora?.parameters ?? [])
    }

    /// The adapter when its side path runs (attached and not merged).
    private var activeLoRA: LoRA? {
        guard let lora, !lora.isMerged else { return nil }
        return lora
    }

    /// x `[N, in]` → `[N, out]`.
    ///
    /// - Parameters:
    ///   - dropoutSeed: the training step's dropout seed; a LoRA derives its own mask seed from it and its module
    ///     name. nil (evaluation) draws no dropout.
    ///   - adapters: whether an attached (unmerged) adapter's side path runs; false gives the base layer (the
    ///     reference model of preference training, without a second copy of the weights).
    public func forward(_ x: Tensor, dropoutSeed: UInt64? = nil, adapters: Bool = true) throws -> Tensor {
        let backend = x.backend
        let y = try backend.empty([x.size(0), outFeatures], dtype: x.dtype)  // (N, out)
        try backend.matmul(x, denseValue(dtype: x.dtype), into: y, transposeA: false, transposeB: true, alpha: 1, beta: 0)
        if let bias { try backend.addBias(y, bias: bias.compute, into: y) }
        if adapters { try activeLoRA?.addForward(input: x, into: y, stepSeed: dropoutSeed) }
        return y
    }

    /// The weight as a dense `[out, in]` tensor for one product: the parameter in its compute dtype, or the blocks
    /// decoded into a temporary of the activations' dtype.
    private func denseValue(dtype: DType) throws -> Tensor {
        switch weight {
        case let .dense(parameter): parameter.compute
        case let .quantized(quantized): try quantized.dequantized(dtype: dtype)
        case let .fourBit(weight): try weight.dequantized(dtype: dtype)
        }
    }

    /// Accumulates `dL/dW` (and `dL/db`) into the gradients of the trainable parameters; frozen ones are skipped.
    public func accumulateParameterGradients(input x: Tensor, gradOutput dy: Tensor) throws {
        let backend = x.backend
        if let dW = weight.parameter?.gradient {
            // dW (out, in) += dyᵀ (out, N) · x (N, in): compute-dtype activations into the f32 master gradient
            try backend.matmul(dy, x, into: dW, transposeA: true, transposeB: false, alpha: 1, beta: 1)
        }
        if let bias, let db = bias.gradient {
            try backend.sumRows(dy, into: db, accumulate: true)
        }
    }

    /// Accumulates the parameter gradients (the adapter's too) and returns `dL/dx` `[N, in]`.
    ///
    /// With `accumulateInto`, `dL/dx` is added to that tensor (layers that share an input, like q/k/v), which
    /// is returned; without it a new tensor is returned. `dropoutSeed` must be the forward pass's.
    @discardableResult
    public func backward(input x: Tensor, gradOutput dy: Tensor, accumulateInto gradInput: Tensor? = nil,
                         dropoutSeed: UInt64? = nil, adapters: Bool = true) throws -> Tensor {
        try accumulateParameterGradients(input: x, gradOutput: dy)
        let backend = x.backend
        let dx = try gradInput ?? backend.empty([x.size(0), inFeatures], dtype: dy.dtype)  // (N, in)
        // dx (N, in) (+)= dy (N, out) · W (out, in)
        try backend.matmul(dy, denseValue(dtype: dy.dtype), into: dx, transposeA: false, transposeB: false,
                           alpha: 1, beta: gradInput == nil ? 0 : 1)
        if adapters {
            try activeLoRA?.backward(input: x, gradOutput: dy, accumulateInto: dx, stepSeed: dropoutSeed)
        }
        return dx
    }

    /// Adds the adapter into the weight (`W += scale·B·A`), after which the layer runs as a plain linear with the
    /// same outputs (up to rounding). Does nothing without an adapter or when already merged.
    public func mergeLoRA() throws {
        guard let lora = activeLoRA else { return }
        let target = try mergeTarget(lora)
        try lora.addDelta(to: target, sign: 1)
        try target.refreshCompute()
        lora.isMerged = true
    }

    /// Takes a merged adapter back out of the weight (`W −= scale·B·A`).
    public func unmergeLoRA() throws {
        guard let lora, lora.isMerged else { return }
        let target = try mergeTarget(lora)
        try lora.addDelta(to: target, sign: -1)
        try target.refreshCompute()
        lora.isMerged = false
    }

    /// The dense weight an adapter merges into; a quantized weight cannot take it in place.
    private func mergeTarget(_ lora: LoRA) throws -> Parameter {
        guard let parameter = weight.parameter else {
            throw TensorError.unsupported(op: "merging the LoRA of \(lora.moduleName) into its \(weight.shape) weight",
                                          backend: "quantized weight",
                                          hint: "merge into a dense base (swift-tune export --merge_lora true)")
        }
        return parameter
    }
}
