import SwiftTuneTensor

/// Dropout and AdamW: validation plus the `CPUKernels` split over threads. Both are elementwise, so the results
/// do not depend on the thread count.
extension CPUBackend {
    public func dropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor) throws {
        let op = "dropout"
        guard probability >= 0, probability <= 1 else {
            throw TensorError.invalidArgument(op: op, reason: "probability \(probability) is outside [0, 1]")
        }
        try requireCount(out, x.count, "\(op) out")
        let input = SendablePointer(try f32(x, "\(op) x")), result = SendablePointer(try f32(out, "\(op) out"))
        let threshold = DropoutMask.threshold(probability: probability)
        let scale = DropoutMask.scale(probability: probability)
        parallelFor(x.count, grain: Self.elementwiseGrain) { range in
            CPUKernels.dropout(input.pointer, seed: seed, threshold: threshold, scale: scale, into: result.pointer,
                               range: range)
        }
    }

    public func adamW(parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor,
                      learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double,
                      step: Int) throws {
        let op = "adamW"
        let coefficients = try AdamWCoefficients(learningRate: learningRate, beta1: beta1, beta2: beta2,
                                                 epsilon: epsilon, weightDecay: weightDecay, step: step, op: op)
        for (tensor, argument) in [(gradient, "gradient"), (firstMoment, "firstMoment"), (secondMoment, "secondMoment")] {
            try requireCount(tensor, parameter.count, "\(op) \(argument)")
        }
        let p = SendablePointer(try f32(parameter, "\(op) parameter"))
        let g = SendablePointer(try f32(gradient, "\(op) gradient"))
        let m = SendablePointer(try f32(firstMoment, "\(op) firstMoment"))
        let v = SendablePointer(try f32(secondMoment, "\(op) secondMoment"))
        parallelFor(parameter.count, grain: Self.elementwiseGrain) { range in
            CPUKernels.adamW(parameter: p.pointer, gradient: g.pointer, firstMoment: m.pointer, secondMoment: v.pointer,
                             coefficients: coefficients, range: range)
        }
    }
}
