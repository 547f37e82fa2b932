import SwiftTuneTensor

/// `y = x · Wᵀ + b`, with the weight in PyTorch's `[out, in]` layout.
public struct Linear: Sendable {
    /// `[out, in]`
    public let weight: Parameter
    /// `[out]`, when the layer has a bias.
    public let bias: Parameter?

    public init(weight: Parameter, bias: Parameter? = nil) {
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// x `[N, in]` → `[N, out]`.
    public func forward(_ x: Tensor) throws -> Tensor {
        let backend = x.backend
        let y = try backend.empty([x.size(0), outFeatures])  // (N, out)
        try backend.matmul(x, weight.value, into: y, transposeA: false, transposeB: true, alpha: 1, beta: 0)
        if let bias { try backend.addBias(y, bias: bias.value, into: y) }
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

    /// Accumulates the parameter gradients and returns `dL/dx` `[N, in]`.
    ///
    /// With `accumulateInto`, `dL/dx` is added to that tensor (layers that share an input, like q/k/v), which
    /// is returned; without it a new tensor is returned.
    @discardableResult
    public func backward(input x: Tensor, gradOutput dy: Tensor, accumulateInto gradInput: Tensor? = nil) throws -> Tensor {
        try accumulateParameterGradients(input: x, gradOutput: dy)
        let backend = x.backend
        let dx = try gradInput ?? backend.empty([x.size(0), inFeatures])  // (N, in)
        // dx (N, in) (+)= dy (N, out) · W (out, in)
        try backend.matmul(dy, weight.value, into: dx, transposeA: false, transposeB: false,
                           alpha: 1, beta: gradInput == nil ? 0 : 1)
        return dx
    }
}
