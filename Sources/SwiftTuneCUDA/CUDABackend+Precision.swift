import SwiftTuneTensor

/// Which `Precision`s the CUDA backend computes: f32 always; bf16 storage (with f32 master copies) once every kernel a
/// model built in bf16 launches has a bf16 instantiation. The rule reads the kernels' own dtype lists; bf16 attention
/// is the tensor-core flash kernels (`CUDABackend+FlashAttention.swift`), other head dimensions go through f32.
extension CUDABackend {
    /// The kernel functions a training step (forward, backward, optimizer) and generation of a bf16 model launch
    /// with bf16 activations. The cuBLASLt products (bf16 in `matmul`), casts (`cast_float`, any dtype) and the
    /// f32-only ops (cross-entropy over f32 logits, AdamW and the clip factor on f32 master state, sampling over f32
    /// logits) are not listed: they need no bf16 kernel.
    static let bf16ModelFunctions: [KernelFunction] = [
        .add, .scale, .scaleByScalar, .addBias, .sumRows, .sumOfSquares, .swiglu, .swigluBackward,
        .embedding, .embeddingBackward, .rmsNorm, .rmsNormBackward, .rmsNormWeightGradient, .rope,
        .flashBackwardDelta, .flashReduceGroups,
        .dropout, .writeKeyValueCache, .pagedAttention,
    ] + FlashAttention.headDims.flatMap { [.flashForward($0), .flashBackwardQuery($0), .flashBackwardKeyValue($0)] }

    /// The functions of `required` that lack a `compute` instantiation (none for f32 today).
    static func missing(_ compute: DType, of required: [KernelFunction] = bf16ModelFunctions) -> [KernelFunction] {
        required.filter { !$0.dtypes.contains(compute) }
    }

    /// Whether models may be built with `precision` given the kernels `required`: f32 masters, and a compute dtype of
    /// f32 or one that every required function is instantiated for (bf16; f16 has no kernels).
    static func supports(_ precision: Precision, required: [KernelFunction] = bf16ModelFunctions) -> Bool {
        guard precision.master == .f32 else { return false }
        switch precision.compute {
        case .f32: return true
        case .bf16: return missing(.bf16, of: required).isEmpty
        default: return false
        }
    }

    public func supports(_ precision: Precision) -> Bool { Self.supports(precision) }
}
