import SwiftTuneTensor

/// `y = x · Wᵀ + b`, with the weight in PyTorch's `[out, in]` layout, and optionally a LoRA side path
/// `+ scale · (dropout(x)·Aᵀ)·Bᵀ`.
public struct Linear: Sendable {
    /// `[out, in]`
    public let weight: Parameter
    /// `[out]`, when the layer has a bias.
    public let bias: Parameter?
    /// The low-rank adapter, when one is attached (and not merged into `weight`).
    public var lora: LoRA?

    public init(weight: Parameter, bias: Parameter? = nil, lora: LoRA? = nil) {
        self.weight = weight
        self.bias = bias
        self.lora = lora
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// Weight, bias, then the adapter's A and B: PEFT's parameter order.
    public var parameters: [Parameter] {
        [weight, bias].compactMap { $0 } + (lora?.parameters ?? [])
    }

    /// The adapter when its side path runs (attached and not merged).
    private var activeLoRA: LoRA? {
        guard let lora, !lora.isMerged else { return nil }
        return lora
    }

    /// x `[N, in]` → `[N, out]`.
    ///
    /// - Parameter dropoutSeed: the training step's dropout seed; a LoRA derives its own mask seed from it and its
    ///   module name. nil (evaluation) draws no dropout.
    public func forward(_ x: Tensor, dropoutSeed: UInt64? = nil) throws -> Tensor {
        let backend = x.backend
        let y = try backend.empty([x.size(0), outFeatures])  // (N, out)
        try backend.matmul(x, weight.value, into: y, transposeA: false, transposeB: true, alpha: 1, beta: 0)
        if let bias { try backend.addBias(y, bias: bias.value, into: y) }
        try activeLoRA?.addForward(input: x, into: y, stepSeed: dropoutSeed)
        return y
    }

    /// Accumulates `dL/dW` (and `dL/db`) into the gradients of the trainable parameters; frozen ones are skipped.
    public func accumulateParameterGradients(input x: Tensor, gradOutput dy: Tensor) throws {
        let backend = x.backend
        if let dW = weight.gradient {
            // dW (out, in) += dyᵀ (out, N) · x (N, in)
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
                         dropoutSeed: UInt64? = nil) throws -> Tensor {
        try accumulateParameterGradients(input: x, gradOutput: dy)
        let backend = x.backend
        let dx = try gradInput ?? backend.empty([x.size(0), inFeatures])  // (N, in)
        // dx (N, in) (+)= dy (N, out) · W (out, in)
        try backend.matmul(dy, weight.value, into: dx, transposeA: false, transposeB: false,
                           alpha: 1, beta: gradInput == nil ? 0 : 1)
        try activeLoRA?.backward(input: x, gradOutput: dy, accumulateInto: dx, stepSeed: dropoutSeed)
        return dx
    }

    /// Adds the adapter into the weight (`W += scale·B·A`), after which the layer runs as a plain linear with the
    /// same outputs (up to rounding). Does nothing without an adapter or when already merged.
    public func mergeLoRA() throws {
        guard let lora = activeLoRA else { return }
        try lora.addDelta(to: weight, sign: 1)
        lora.isMerged = true
    }

    /// Takes a merged adapter back out of the weight (`W −= scale·B·A`).
    public func unmergeLoRA() throws {
        guard let lora, lora.isMerged else { return }
        try lora.addDelta(to: weight, sign: -1)
        lora.isMerged = false
    }
}
