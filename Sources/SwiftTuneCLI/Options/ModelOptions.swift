import ArgumentParser
import SwiftTuneTensor

/// The model, template and device flags shared by `sft`, `pt`, `infer`, `export` and `deploy`.
struct ModelOptions: ParsableArguments {
    @Option(name: flag("model"), help: "An HF model folder, a .gguf file, or a hub id ORG/NAME (from the caches or downloaded).")
    var model: String?

    @Option(name: flag("template"), help: "Chat template: chatml, qwen, qwen2_5, qwen3, llama3, llama3_2, llama, mistral, default (default: from the model).")
    var template: String?

    @Option(name: flag("system"), help: "Override the template's default system prompt.")
    var system: String?

    @Option(name: flag("torch_dtype"), help: "bfloat16 or float32 (default: bfloat16 on CUDA, float32 on the CPU, which stores bfloat16 but computes in float32); float16 is refused (no loss scaling).")
    var torchDtype: String?

    @Option(name: flag("device"), help: "cpu or cuda (default: cuda when a GPU is found, else cpu).")
    var device: String?

    @Option(name: flag("verbose"), help: "More detail: every path searched when CUDA is not found (deploy: every request too); true or false.")
    var verbose = false

    /// The backend `--device` names (see `DeviceChoice.pick`).
    func backend() throws -> any Backend { try DeviceChoice.pick(device, verbose: verbose) }

    func validate() throws {
        if let torchDtype, !["bfloat16", "float16", "float32"].contains(torchDtype) {
            throw ValidationError("--torch_dtype \(torchDtype): expected bfloat16, float16 or float32")
        }
        if let device, !["cpu", "cuda"].contains(device) {
            throw ValidationError("--device \(device): expected cpu or cuda")
        }
    }
}
