import Testing
@testable import SwiftTuneCUDA
import SwiftTuneTensor

/// `CUDABackend.supports(_:)`, checked without a GPU: bf16 turns on exactly when every function a bf16 model launches
/// has a bf16 instantiation.
@Suite struct PrecisionSupportTests {
    @Test func theRuleFollowsTheRequiredFunctionsDTypes() {
        let both = KernelFunction(.layers, "both", dtypes: [.f32, .bf16])
        let f32Only = KernelFunction(.attention, "f32_only", dtypes: [.f32])
        #expect(CUDABackend.supports(.bf16, required: [both]))
        #expect(!CUDABackend.supports(.bf16, required: [both, f32Only]))
        #expect(CUDABackend.missing(.bf16, of: [both, f32Only]) == [f32Only])
        // Giving the last function its bf16 form is all it takes.
        let completed = KernelFunction(.attention, "f32_only", dtypes: [.f32, .bf16])
        #expect(CUDABackend.supports(.bf16, required: [both, completed]))
        // f32 needs nothing; f16 compute and non-f32 masters are never supported.
        #expect(CUDABackend.supports(.f32, required: [f32Only]))
        #expect(!CUDABackend.supports(Precision(compute: .f16), required: [both]))
        #expect(!CUDABackend.supports(Precision(compute: .bf16, master: .bf16), required: [both]))
    }

    @Test func everyFunctionOfABF16ModelHasItsBF16Kernel() {
        // bf16 attention is the flash kernels (bf16 only, head dims 64 and 128; others go through f32); every other
        // function has both forms.
        #expect(CUDABackend.missing(.bf16).isEmpty, "\(CUDABackend.missing(.bf16).map(\.name))")
        #expect(CUDABackend.supports(.bf16))
        for function in CUDABackend.bf16ModelFunctions where function.module != .attention {
            #expect(function.dtypes.contains(.f32), "\(function.name) lacks its f32 form")
        }
    }

    @Test func theRequiredListCoversTheModelsOps() {
        let required = Set(CUDABackend.bf16ModelFunctions.map(\.name))
        for name in ["add", "scale", "rms_norm", "rms_norm_backward", "rope", "swiglu", "swiglu_backward", "embedding",
                     "flash_attention_forward_hd128", "flash_attention_backward_key_value_hd64", "dropout", "write_kv_cache", "paged_attention"] {
            #expect(required.contains(name), "\(name) is not required for bf16")
        }
    }

    @Test func matmulTakesF32AndBF16Matrices() throws {
        #expect(try CUDABackend.blasType(.f32, "matmul") == .f32)
        #expect(try CUDABackend.blasType(.bf16, "matmul") == .bf16)
        #expect(throws: TensorError.self) { try CUDABackend.blasType(.f16, "matmul") }
    }

    @Test func accumulatorsPickTheirKernel() {
        let pick = { (storage: DType, accumulator: DType) in
            KernelFunction.accumulating(.sumRows, .sumRowsIntoStorage, storage: storage, accumulator: accumulator)
        }
        #expect(pick(.f32, .f32) == .sumRows)
        #expect(pick(.bf16, .f32) == .sumRows)
        #expect(pick(.bf16, .bf16) == .sumRowsIntoStorage)
    }
}
