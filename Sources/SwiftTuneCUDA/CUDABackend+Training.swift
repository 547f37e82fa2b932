import SwiftTuneTensor

/// Dropout and AdamW. Semantics are the `Backend` protocol's; the host computes every scalar (the mask threshold,
/// the AdamW coefficients) once, exactly as the CPU backend does, so both backends round alike.
extension CUDABackend {
    public func dropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor) throws {
        let op = "dropout"
        guard probability >= 0, probability <= 1 else {
            throw TensorError.invalidArgument(op: op, reason: "probability \(probability) is outside [0, 1]")
        }
        try Validate.f32([(x, "x"), (out, "out")], op)
        try Validate.count(out, x.count, op, "out")
        try context.makeCurrent()
        try launchElementwise(.dropoutF32, count: x.count, [
            .pointer(address(out, op)), .pointer(address(x, op)), .int64(Int64(bitPattern: seed)),
            .int32(Int32(DropoutMask.threshold(probability: probability))),
            .float32(DropoutMask.scale(probability: probability)), .long(x.count),
        ])
    }

    public func adamW(parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor,
                      learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double,
                      step: Int) throws {
        let op = "adamW"
        let c = try AdamWCoefficients(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                      weightDecay: weightDecay, step: step, op: op)
        try Validate.f32([(parameter, "parameter"), (gradient, "gradient"), (firstMoment, "firstMoment"),
                          (secondMoment, "secondMoment")], op)
        for (tensor, role) in [(gradient, "gradient"), (firstMoment, "firstMoment"), (secondMoment, "secondMoment")] {
            try Validate.count(tensor, parameter.count, op, role)
        }
        try context.makeCurrent()
        try launchElementwise(.adamWF32, count: parameter.count, [
            .pointer(address(parameter, op)), .pointer(address(gradient, op)), .pointer(address(firstMoment, op)),
            .pointer(address(secondMoment, op)), .float32(Float(c.decay)), .float32(Float(c.firstMomentWeight)),
            .float32(Float(c.beta2)), .float32(Float(c.secondMomentWeight)), .float32(Float(c.biasCorrection2Root)),
            .float32(Float(c.epsilon)), .float32(Float(c.negativeStepSize)), .long(parameter.count),
        ])
    }
}
