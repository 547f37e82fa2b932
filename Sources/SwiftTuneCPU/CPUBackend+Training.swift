import SwiftTuneTensor

/// Dropout, AdamW and the clip coefficient: validation plus the `CPUKernels` split over threads. Dropout and AdamW
/// are elementwise, so the results do not depend on the thread count.
extension CPUBackend {
    public func dropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor) throws {
        let op = "dropout"
        try OpCheck.dropout(x, probability: probability, out: out)
        let threshold = DropoutMask.threshold(probability: probability)
        let scale = DropoutMask.scale(probability: probability)
        try staged { s in
            let input = SendablePointer(try s.input(x, "\(op) x")), result = SendablePointer(try s.output(out, "\(op) out"))
            parallelFor(x.count, grain: Self.elementwiseGrain) { range in
                CPUKernels.dropout(input.pointer, seed: seed, threshold: threshold, scale: scale, into: result.pointer,
                                   range: range)
            }
        }
    }

    public func adamW(parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor,
                      scalars: Tensor) throws {
        let op = "adamW"
        try OpCheck.adamW(parameter: parameter, gradient: gradient, firstMoment: firstMoment,
                          secondMoment: secondMoment, scalars: scalars)
        let values = AdamWScalars(try f32(scalars, "\(op) scalars"))
        let p = SendablePointer(try f32(parameter, "\(op) parameter"))
        let g = SendablePointer(try f32(gradient, "\(op) gradient"))
        let m = SendablePointer(try f32(firstMoment, "\(op) firstMoment"))
        let v = SendablePointer(try f32(secondMoment, "\(op) secondMoment"))
        parallelFor(parameter.count, grain: Self.elementwiseGrain) { range in
            CPUKernels.adamW(parameter: p.pointer, gradient: g.pointer, firstMoment: m.pointer, secondMoment: v.pointer,
                             scalars: values, range: range)
        }
    }

    public func clipCoefficient(sumOfSquares: Tensor, maxNorm: Float, into coefficient: Tensor) throws {
        let op = "clipCoefficient"
        try OpCheck.clipCoefficient(sumOfSquares: sumOfSquares, maxNorm: maxNorm, coefficient: coefficient)
        let squared = try f32(sumOfSquares, "\(op) sumOfSquares")[0]
        try f32(coefficient, "\(op) coefficient")[0] = CPUKernels.clipCoefficient(sumOfSquares: squared, maxNorm: maxNorm)
    }
}
