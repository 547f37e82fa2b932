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

extension CPUKernels {
    /// One AdamW update of elements `range` in `torch.optim.AdamW`'s single-tensor order (see `AdamWCoefficients`).
    ///
    /// parameter, gradient, firstMoment, secondMoment `[count]`; the scalars are rounded to `T` once, as PyTorch
    /// rounds its Python-float scalars to the tensor's dtype, and each line below is one PyTorch op.
    static func adamW<T: KernelScalar>(parameter: UnsafeMutablePointer<T>, gradient: UnsafePointer<T>,
                                       firstMoment: UnsafeMutablePointer<T>, secondMoment: UnsafeMutablePointer<T>,
                                       coefficients c: AdamWCoefficients, range: Range<Int>) {
        let decay = T(c.decay), weight = T(c.firstMomentWeight), beta2 = T(c.beta2)
        let secondWeight = T(c.secondMomentWeight), root = T(c.biasCorrection2Root), epsilon = T(c.epsilon)
        let negativeStep = T(c.negativeStepSize)
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
}
