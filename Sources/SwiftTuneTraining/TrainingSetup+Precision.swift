import SwiftTuneTensor

extension TrainingSetup {
    /// The model's precision for `--torch_dtype` on `backend`: the flag's, or ms-swift's default for the backend
    /// (bfloat16 on CUDA, float32 on the CPU). float16 is refused: without loss scaling its 5-bit exponent
    /// underflows small gradients, and bfloat16 (float32's range) needs none.
    static func precision(torchDtype: String?, backend: any Backend) throws -> Precision {
        guard let torchDtype else { return Precision.default(for: backend) }
        guard let precision = Precision(torchDtype: torchDtype) else {
            throw TrainingError.invalidArgument(flag: "torch_dtype", value: torchDtype,
                                                expected: "bfloat16, float32 or float16")
        }
        guard precision.compute != .f16 else {
            throw TrainingError.invalidArgument(
                flag: "torch_dtype", value: torchDtype,
                expected: "bfloat16 or float32 (float16 training needs loss scaling, which swift-tune does not "
                    + "implement; bfloat16 has float32's range and trains without it)")
        }
        guard backend.supports(precision) else {
            throw TrainingError.invalidArgument(flag: "torch_dtype", value: torchDtype,
                                                expected: "a precision the \(backend.name) backend runs (float32)")
        }
        return precision
    }

    /// How `backend` runs `precision`, for the log.
    static func describe(_ precision: Precision, on backend: any Backend) -> String {
        guard precision.compute != .f32 else { return "f32 weights, activations and gradients" }
        let compute = backend.name == "cpu" ? "computed in f32" : "f32 accumulation"
        return "\(precision.compute) weights and activations, \(compute); f32 master weights, gradients and AdamW state"
    }
}
