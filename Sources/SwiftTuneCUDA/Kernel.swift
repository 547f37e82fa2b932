import SwiftTuneTensor

/// A kernel function of one module, by its name in the source and the dtypes it is instantiated for: `rms_norm` in
/// `layers` for `[.f32]` is the symbol `rms_norm_f32` (a bf16 variant would add `.bf16`, exported as `rms_norm_bf16`).
/// A function with no dtypes is one symbol, its name (`cast_float`, which takes its types as arguments).
///
/// Each `CUDABackend+<Family>.swift` declares its functions as static members and lists them for `KernelModule`.
struct KernelFunction: Hashable, Sendable {
    let module: KernelModule
    let name: String
    let dtypes: [DType]

    init(_ module: KernelModule, _ name: String, dtypes: [DType] = []) {
        self.module = module
        self.name = name
        self.dtypes = dtypes
    }

    /// Every `extern "C"` symbol of this function in its module.
    var symbols: [String] { dtypes.isEmpty ? [name] : dtypes.map { Kernel(function: self, dtype: $0).symbol } }

    /// The instantiation for `dtype` (nil for a function without dtypes).
    /// - Throws: `TensorError.unsupported` when the function has no such instantiation.
    func kernel(_ dtype: DType?) throws -> Kernel {
        let instantiated = dtypes.isEmpty ? dtype == nil : dtype.map({ dtypes.contains($0) }) == true
        guard instantiated else {
            throw TensorError.unsupported(op: "\(name) for \(dtype.map { "\($0)" } ?? "no dtype")", backend: "cuda",
                                          hint: "\(module.fileName) has \(symbols.joined(separator: ", "))")
        }
        return Kernel(function: self, dtype: dtype)
    }
}

/// One compiled kernel: a module's function for one dtype. Its symbol is `<function>_<dtype>` (`rms_norm_f32`).
struct Kernel: Hashable, Sendable, CustomStringConvertible {
    let function: KernelFunction
    let dtype: DType?

    var module: KernelModule { function.module }
    var symbol: String { dtype.map { "\(function.name)_\($0.rawValue)" } ?? function.name }
    var description: String { "\(module.fileName):\(symbol)" }
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

/// Reading kernel sources: the names they define and the constants they share with the Swift side.
public enum KernelSource {
    /// Largest head dimension the attention kernels accept (`MAX_HEAD_DIM` in common.cuh).
    public static let maximumHeadDimension = 256

    /// The names of the `extern "C" __global__ void [__launch_bounds__(…)] NAME(...)` kernels in `source`, in order.
    public static func kernelNames(in source: String) -> [String] {
        source.matches(of: #/extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?([A-Za-z_][A-Za-z0-9_]*)/#).map { String($0.output.1) }
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
