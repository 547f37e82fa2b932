import SwiftTuneTensor

/// Global-norm gradient clipping as `torch.nn.utils.clip_grad_norm_` (which HF Trainer calls with
/// `max_grad_norm`): the norm is taken over every gradient together, and all gradients are scaled by
/// `max_norm / (norm + 1e-6)` when that is below 1.
public enum GradientClipping {
    /// `√(Σ over parameters of Σ g²)` over the parameters that have a gradient. Reads one number on the host.
    public static func globalNorm(of parameters: [Parameter]) throws -> Double {
        let gradients = parameters.compactMap(\.gradient)
        guard let first = gradients.first else { return 0 }
        let backend = first.backend
        let total = try backend.zeros([1])
        for gradient in gradients { try backend.sumOfSquares(gradient, into: total, accumulate: true) }
        return Double(try backend.floats(total)[0]).squareRoot()
    }

    /// Clips the gradients to a global norm of `maxNorm` and returns the norm before clipping (what HF logs as
    /// `grad_norm`). The coefficient is computed in f32 like PyTorch's: `max_norm / (norm + 1e-6)`.
    @discardableResult
    public static func clip(_ parameters: [Parameter], maxNorm: Double) throws -> Double {
        let norm = try globalNorm(of: parameters)
        let coefficient = Float(maxNorm) / (Float(norm) + 1e-6)
        if coefficient < 1 {
            for gradient in parameters.compactMap(\.gradient) {
                try gradient.backend.scale(gradient, by: coefficient, into: gradient)
            }
        }
        return norm
    }
}
