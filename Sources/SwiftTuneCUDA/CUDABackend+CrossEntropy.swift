import SwiftTuneTensor

extension KernelFunction {
    /// `cross_entropy.cu`.
    static let crossEntropyFunctions: [KernelFunction] = [crossEntropy]
    static let crossEntropy = KernelFunction(.crossEntropy, "cross_entropy", dtypes: [.f32])
}

/// Softmax cross-entropy fused with its gradient, one thread block per row. Semantics are the `Backend` protocol's;
/// the kernel is in `cross_entropy.cu`.
extension CUDABackend {
    /// Targets outside `0..<V` (not only `-100`) are treated as ignored: the host does not read targets.
    public func crossEntropy(logits: Tensor, targets: Tensor, gradientScale: Float?, tokenWeights: Tensor?,
                             stats: Tensor, logProbabilities: Tensor?) throws {
        let op = "crossEntropy"
        let size = try OpCheck.crossEntropy(logits: logits, targets: targets, stats: stats,
                                            logProbabilities: logProbabilities, tokenWeights: tokenWeights)
        let (rows, vocabulary) = (size.rows, size.columns)
        try KernelLimits.fitsInt32([rows, vocabulary], op, logits.shape)
        guard rows > 0 else { return }
        try context.makeCurrent()
        try launch(.crossEntropy, .f32, grid: (rows, 1), block: vocabulary >= 8192 ? 1024 : Self.rowBlock, [
            .pointer(address(logits, op)), .pointer(address(targets, op)), .pointer(address(stats, op)),
            .pointer(address(logProbabilities, op)), .int(vocabulary), .flag(gradientScale != nil),
            .float32(gradientScale ?? 0), .pointer(address(tokenWeights, op)),
        ])
    }
}
