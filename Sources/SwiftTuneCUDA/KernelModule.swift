/// The kernel modules: one `Kernels/<module>.cu` per op family, named after the CPU backend's files, each compiled by
/// NVRTC on its own (on the first launch of one of its kernels) and cached on disk under its own hash, with the shared
/// header `Kernels/common.cuh` passed in memory.
///
/// A new family is a new `<module>.cu` (embedded in `Package.swift` with `.embedInCode`) and a
/// `CUDABackend+<Family>.swift` that declares its `KernelFunction`s, plus a case here.
enum KernelModule: String, CaseIterable, Sendable {
    case memory
    case elementwise
    case layers
    case attention
    case crossEntropy = "cross_entropy"
    case generation
    case training
    case sampling
    case quantization
    case lora

    /// The source file's name, e.g. `layers.cu` (also NVRTC's name for the program, in its messages).
    var fileName: String { "\(rawValue).cu" }

    /// The module's CUDA source, embedded in the binary.
    var source: [UInt8] {
        switch self {
        case .memory: PackageResources.memory_cu
        case .elementwise: PackageResources.elementwise_cu
        case .layers: PackageResources.layers_cu
        case .attention: PackageResources.attention_cu
        case .crossEntropy: PackageResources.cross_entropy_cu
        case .generation: PackageResources.generation_cu
        case .training: PackageResources.training_cu
        case .sampling: PackageResources.sampling_cu
        case .quantization: PackageResources.quantization_cu
        case .lora: PackageResources.lora_cu
        }
    }

    /// Every kernel function the Swift side launches from this module (declared beside its launches).
    var functions: [KernelFunction] {
        switch self {
        case .memory: KernelFunction.memoryFunctions
        case .elementwise: KernelFunction.elementwiseFunctions
        case .layers: KernelFunction.layersFunctions
        case .attention: KernelFunction.attentionFunctions
        case .crossEntropy: KernelFunction.crossEntropyFunctions
        case .generation: KernelFunction.generationFunctions
        case .training: KernelFunction.trainingFunctions
        case .sampling: KernelFunction.samplingFunctions
        case .quantization: KernelFunction.quantizationFunctions
        case .lora: KernelFunction.loraFunctions
        }
    }

    /// The header every module includes as `#include "common.cuh"`: reductions, argmax, bf16 bits, conventions.
    static let headerName = "common.cuh"
    /// The header's source, embedded in the binary.
    static var header: [UInt8] { PackageResources.common_cuh }
}
