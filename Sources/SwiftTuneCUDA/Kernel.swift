/// The kernels of `Kernels/kernels.cu` that the Swift side launches, by their `extern "C"` names.
enum Kernel: String, CaseIterable, Sendable {
    case fillF64 = "fill_f64"
    case castFloat = "cast_float"
    case addF32 = "add_f32"
    case scaleF32 = "scale_f32"
    case addBiasF32 = "add_bias_f32"
    case sumRowsF32 = "sum_rows_f32"
    case sumOfSquaresF32 = "sum_of_squares_f32"
    case embeddingF32 = "embedding_f32"
    case embeddingBackwardF32 = "embedding_backward_f32"
    case rmsNormF32 = "rms_norm_f32"
    case rmsNormBackwardF32 = "rms_norm_backward_f32"
    case rmsNormWeightGradientF32 = "rms_norm_weight_gradient_f32"
    case ropeF32 = "rope_f32"
    case attentionForwardF32 = "attention_forward_f32"
    case attentionBackwardDeltaF32 = "attention_backward_delta_f32"
    case attentionBackwardQueryF32 = "attention_backward_query_f32"
    case attentionBackwardKeyValueF32 = "attention_backward_key_value_f32"
    case writeKeyValueCacheF32 = "write_kv_cache_f32"
    case pagedAttentionF32 = "paged_attention_f32"
    case swigluF32 = "swiglu_f32"
    case swigluBackwardF32 = "swiglu_backward_f32"
    case crossEntropyF32 = "cross_entropy_f32"
    case dropoutF32 = "dropout_f32"
    case adamWF32 = "adamw_f32"
    // Sampling (CUDABackend+Sampling.swift)
    case sampleF32 = "sample_f32"
}

/// One argument of a kernel launch, stored by value in the parameter buffer `cuLaunchKernel` reads.
enum KernelArgument {
    case pointer(CUdeviceptr)
    case int32(Int32)
    case int64(Int64)
    case float32(Float)
    case float64(Double)

    /// An `int` argument from a Swift `Int` (sizes are validated to fit before launching).
    static func int(_ value: Int) -> KernelArgument { .int32(Int32(truncatingIfNeeded: value)) }
    /// A `long long` argument from a Swift `Int`.
    static func long(_ value: Int) -> KernelArgument { .int64(Int64(value)) }
    /// A `bool`-like `int` argument.
    static func flag(_ value: Bool) -> KernelArgument { .int32(value ? 1 : 0) }
}

/// The CUDA source compiled at run time, embedded in the binary with SwiftPM's `.embedInCode`.
public enum KernelSource {
    /// The bytes of `Kernels/kernels.cu`.
    public static var bytes: [UInt8] { PackageResources.kernels_cu }

    /// Largest head dimension the attention kernels accept (`MAX_HEAD_DIM` in kernels.cu).
    public static let maximumHeadDimension = 256

    /// The names of the `extern "C" __global__ void NAME(...)` kernels in `source`, in order.
    public static func kernelNames(in source: String) -> [String] {
        source.matches(of: #/extern\s+"C"\s+__global__\s+void\s+([A-Za-z_][A-Za-z0-9_]*)/#).map { String($0.output.1) }
    }

    /// The value of `#define NAME value` in `source`, if it is an integer.
    public static func integerDefine(_ name: String, in source: String) -> Int? {
        for line in source.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count >= 3, words[0] == "#define", words[1] == name { return Int(words[2]) }
        }
        return nil
    }
}
