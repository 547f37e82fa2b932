import SwiftTuneTensor

/// Global-norm gradient clipping as `torch.nn.utils.clip_grad_norm_` (which HF Trainer calls with
/// `max_grad_norm`): the norm is taken over every gradient together, and all gradients are scaled by
/// `max_norm / (norm + 1e-6)` when that is below 1.
///
/// `clipOnDevice` does it without reading anything on the host (the squared norm, the factor and the scaling stay in
/// device memory, so a training step can be captured as a CUDA graph); `clip` and `globalNorm` read the norm for the
/// caller that logs it.
public enum GradientClipping {
    /// The global norm left in device memory by `clipOnDevice`.
    public struct DeviceNorm: Sendable {
        /// `Σ g²` over every gradient, f32 `[1]` (the norm is its square root).
        public let sumOfSquares: Tensor
        /// `min(1, maxNorm / (norm + 1e-6))`, f32 `[1]`: the factor the gradients were scaled by.
        public let coefficient: Tensor

        /// The norm before clipping, read on the host (one wait for the queued work): `√Σ g²` in `Double`, what HF
        /// logs as `grad_norm`.
        public func norm() throws -> Double {
            Double(try sumOfSquares.backend.floats(sumOfSquares)[0]).squareRoot()
        }
    }

    /// `√(Σ over parameters of Σ g²)` over the parameters that have a gradient. Reads one number on the host.
    public static func globalNorm(of parameters: [Parameter]) throws -> Double {
        guard let squared = try sumOfSquares(of: parameters) else { return 0 }
        return Double(try squared.backend.floats(squared)[0]).squareRoot()
    }

    /// Clips the gradients to a global norm of `maxNorm` and returns the norm before clipping (what HF logs as
    /// `grad_norm`). The coefficient is computed in f32 like PyTorch's: `max_norm / (norm + 1e-6)`.
    @discardableResult
    public static func clip(_ parameters: [Parameter], maxNorm: Double) throws -> Double {
        try clipOnDevice(parameters, maxNorm: maxNorm)?.norm() ?? 0
    }

    /// Clips the gradients to a global norm of `maxNorm` on their backend, reading nothing on the host: the squared
    /// norm accumulates in a device `[1]` tensor (`Backend.sumOfSquares`), `Backend.clipCoefficient` turns it into the
    /// factor, and every gradient is scaled by it (`Backend.scale(_:byDeviceScalar:into:)`, 1 when the norm is within
    /// `maxNorm`). Results equal `clip`'s bit for bit. Returns nil when no parameter has a gradient.
    /// - Throws: `TensorError.invalidArgument` for a negative or non-finite `maxNorm`.
    public static func clipOnDevice(_ parameters: [Parameter], maxNorm: Double) throws -> DeviceNorm? {
        try clipOnDevice(gradients: parameters.compactMap(\.gradient), maxNorm: maxNorm)
    }

    /// `clipOnDevice` over gradient tensors (e.g. `AdamW.gradientTensors`, its flat buffers: one launch each).
    public static func clipOnDevice(gradients: [Tensor], maxNorm: Double) throws -> DeviceNorm? {
        guard let squared = try sumOfSquares(of: gradients) else { return nil }
        let backend = squared.backend
        let coefficient = try backend.empty([1])
        try backend.clipCoefficient(sumOfSquares: squared, maxNorm: Float(maxNorm), into: coefficient)
        for gradient in gradients {
            try backend.scale(gradient, byDeviceScalar: coefficient, into: gradient)
        }
        return DeviceNorm(sumOfSquares: squared, coefficient: coefficient)
    }

    /// `Σ g²` over every gradient, f32 `[1]` on the gradients' backend; nil when no parameter has a gradient.
    public static func sumOfSquares(of parameters: [Parameter]) throws -> Tensor? {
        try sumOfSquares(of: parameters.compactMap(\.gradient))
    }

    /// `Σ g²` over `gradients`, f32 `[1]` on their backend; nil when there are none.
    public static func sumOfSquares(of gradients: [Tensor]) throws -> Tensor? {
        guard let first = gradients.first else { return nil }
        let backend = first.backend
        let total = try backend.zeros([1])
        for gradient in gradients { try backend.sumOfSquares(gradient, into: total, accumulate: true) }
        return total
    }
}
