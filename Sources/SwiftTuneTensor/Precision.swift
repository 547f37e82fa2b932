/// The dtypes a model is built with: what its frozen weights, activations, their gradients and the KV cache are
/// stored in, and what trainable parameters keep as master copies.
///
/// Every op accumulates in f32 whatever it stores (the `Backend` contract), and the loss, log-probabilities and
/// statistics are f32 always. Trainable parameters (LoRA factors, full fine-tuning's weights) keep f32 master copies,
/// f32 gradients and f32 optimizer moments, as PyTorch AMP with peft does; with a 16-bit `compute` the forward pass
/// reads a copy of them in `compute`.
public struct Precision: Sendable, Hashable, CustomStringConvertible {
    /// Frozen weights, activations, activation gradients and the KV cache.
    public var compute: DType
    /// Master copies of trainable parameters, their gradients and the optimizer's moments.
    public var master: DType

    public init(compute: DType, master: DType = .f32) {
        self.compute = compute
        self.master = master
    }

    /// Everything in f32: the CPU backend's precision and the reference the others are checked against.
    public static let f32 = Precision(compute: .f32)
    /// bf16 storage with f32 accumulation and f32 master weights (`--torch_dtype bfloat16`).
    public static let bf16 = Precision(compute: .bf16)

    /// ms-swift's `--torch_dtype` spelling: `float32`, `bfloat16`, `float16`.
    public var torchDtype: String {
        switch compute {
        case .bf16: "bfloat16"
        case .f16: "float16"
        default: "float32"
        }
    }

    /// The precision of ms-swift's `--torch_dtype` spelling (`float32`, `bfloat16`, `float16`); nil for another.
    public init?(torchDtype: String) {
        switch torchDtype {
        case "float32": self = .f32
        case "bfloat16": self = .bf16
        case "float16": self = Precision(compute: .f16)
        default: return nil
        }
    }

    /// ms-swift's default `--torch_dtype` on a backend: `bfloat16` on a GPU that supports it, else `float32` (the
    /// CPU stores bf16 but computes in f32 either way, so bf16 there only saves memory and is opt-in).
    public static func `default`(for backend: any Backend) -> Precision {
        backend.name != "cpu" && backend.supports(.bf16) ? .bf16 : .f32
    }

    public var description: String { compute == master ? "\(compute)" : "\(compute) (master \(master))" }
}
