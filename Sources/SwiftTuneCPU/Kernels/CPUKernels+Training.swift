import SwiftTuneTensor

// Training-only kernels: counter-based dropout and the AdamW update.

// MARK: - Dropout

extension CPUKernels {
    /// `out[i] = keeps(seed, i) ? x[i] · scale : 0` for `i` in `range` (`DropoutMask`); `out` may be `x`.
    ///
    /// x, out `[count]`. The mask depends only on `(seed, i, threshold)`, never on how `range` is split.
    static func dropout<T: KernelScalar>(_ x: UnsafePointer<T>, seed: UInt64, threshold: UInt32, scale: T,
                                         into out: UnsafeMutablePointer<T>, range: Range<Int>) {
        for i in range {
            out[i] = DropoutMask.keeps(seed: seed, index: i, threshold: threshold) ? x[i] * scale : 0
        }
    }
}

// MARK: - AdamW

/// The seven scalars of one AdamW step in `T` (`AdamWCoefficients`, in its `scalars` order).
struct AdamWScalars<T: KernelScalar>: Sendable {
    var decay, firstMomentWeight, beta2, secondMomentWeight, biasCorrection2Root, epsilon, negativeStepSize: T

    /// The coefficients rounded to `T` once, as PyTorch rounds its Python-float scalars to the tensor's dtype.
    init(_ c: AdamWCoefficients) {
        (decay, firstMomentWeight, beta2) = (T(c.decay), T(c.firstMomentWeight), T(c.beta2))
        (secondMomentWeight, biasCorrection2Root) = (T(c.secondMomentWeight), T(c.biasCorrection2Root))
        (epsilon, negativeStepSize) = (T(c.epsilon), T(c.negativeStepSize))
    }

    /// The scalars a device tensor holds (`AdamWCoefficients.scalarCount` values).
    init(_ values: UnsafePointer<T>) {
        (decay, firstMomentWeight, beta2, secondMomentWeight) = (values[0], values[1], values[2], values[3])
        (biasCorrection2Root, epsilon, negativeStepSize) = (values[4], values[5], values[6])
    }
}

extension CPUKernels {
    /// One AdamW update of elements `range` in `torch.optim.AdamW`'s single-tensor order (see `AdamWCoefficients`).
    ///
    /// parameter, gradient, firstMoment, secondMoment `[count]`; each line below is one PyTorch op.
    static func adamW<T: KernelScalar>(parameter: UnsafeMutablePointer<T>, gradient: UnsafePointer<T>,
                                       firstMoment: UnsafeMutablePointer<T>, secondMoment: UnsafeMutablePointer<T>,
                                       scalars s: AdamWScalars<T>, range: Range<Int>) {
        let (decay, weight, beta2) = (s.decay, s.firstMomentWeight, s.beta2)
        let (secondWeight, root, epsilon) = (s.secondMomentWeight, s.biasCorrection2Root, s.epsilon)
        let negativeStep = s.negativeStepSize
        for i in range {
            let g = gradient[i]
            var p = parameter[i] * decay  // param.mul_(1 - lr * wd)
            let m = firstMoment[i]
            let updatedM = weight < 0.5 ? m + weight * (g - m) : g - (g - m) * (1 - weight)  // exp_avg.lerp_(grad, 1 - β1)
            let v = secondMoment[i] * beta2 + secondWeight * g * g  // exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 - β2)
            let denominator = v.squareRoot() / root + epsilon  // (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
            p = p + negativeStep * (updatedM / denominator)  // param.addcdiv_(exp_avg, denom, value=-step_size)
            parameter[i] = p
            firstMoment[i] = updatedM
            secondMoment[i] = v
        }
    }

    /// `adamW` with the host's coefficients rounded to `T` (the f64 gradient checks call this).
    static func adamW<T: KernelScalar>(parameter: UnsafeMutablePointer<T>, gradient: UnsafePointer<T>,
                                       firstMoment: UnsafeMutablePointer<T>, secondMoment: UnsafeMutablePointer<T>,
                                       coefficients: AdamWCoefficients, range: Range<Int>) {
        adamW(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment,
              scalars: AdamWScalars(coefficients), range: range)
    }
}

// MARK: - Gradient clipping

extension CPUKernels {
    /// `clip_grad_norm_`'s factor from the summed squares of every gradient, in f32 as PyTorch computes it:
    /// `norm = Float(√Double(sumOfSquares))`, `min(1, maxNorm / (norm + 1e-6))`; a NaN factor gives 1 (the host's
    /// `coefficient < 1` test is false for NaN, so nothing is scaled).
    static func clipCoefficient(sumOfSquares: Float, maxNorm: Float) -> Float {
        let norm = Float(Double(sumOfSquares).squareRoot())
        let coefficient = maxNorm / (norm + 1e-6)
        return coefficient < 1 ? coefficient : 1
    }
}
