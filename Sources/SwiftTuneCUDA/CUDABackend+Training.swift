import SwiftTuneTensor

extension KernelFunction {
    /// `training.cu`.
    static let trainingFunctions: [KernelFunction] = [dropout, adamW, clipCoefficient]
    static let dropout = KernelFunction(.training, "dropout", dtypes: [.f32, .bf16])
    static let adamW = KernelFunction(.training, "adamw", dtypes: [.f32])
    static let clipCoefficient = KernelFunction(.training, "clip_coefficient", dtypes: [.f32])
}

/// Dropout, AdamW and the gradient-clip factor. Semantics are the `Backend` protocol's. The host computes the dropout
/// threshold and AdamW's coefficients exactly as the CPU backend does, so both backends round alike; AdamW's and the
/// clip's scalars are read from device memory, so their launches do not change from step to step.
extension CUDABackend {
    public func dropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor) throws {
        let op = "dropout"
        try OpCheck.dropout(x, probability: probability, out: out)
        try context.makeCurrent()
        try launchElementwise(.dropout, x.dtype, count: x.count, [
            .pointer(address(out, op)), .pointer(address(x, op)), .int64(Int64(bitPattern: seed)),
            .int32(Int32(DropoutMask.threshold(probability: probability))),
            .float32(DropoutMask.scale(probability: probability)), .long(x.count),
        ])
    }

    public func adamW(parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor,
                      scalars: Tensor) throws {
        let op = "adamW"
        try OpCheck.adamW(parameter: parameter, gradient: gradient, firstMoment: firstMoment,
                          secondMoment: secondMoment, scalars: scalars)
        try context.makeCurrent()
        try launchElementwise(.adamW, .f32, count: parameter.count, [
            .pointer(address(parameter, op)), .pointer(address(gradient, op)), .pointer(address(firstMoment, op)),
            .pointer(address(secondMoment, op)), .pointer(address(scalars, op)), .long(parameter.count),
        ])
    }

    public func clipCoefficient(sumOfSquares: Tensor, maxNorm: Float, into coefficient: Tensor) throws {
        let op = "clipCoefficient"
        try OpCheck.clipCoefficient(sumOfSquares: sumOfSquares, maxNorm: maxNorm, coefficient: coefficient)
        try context.makeCurrent()
        try launch(.clipCoefficient, .f32, grid: (1, 1), block: 1, [
            .pointer(address(coefficient, op)), .pointer(address(sumOfSquares, op)), .float32(maxNorm),
        ])
    }
}
