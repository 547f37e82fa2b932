import Foundation

/// What `swift-tune export` does, with ms-swift's flag names in the comments.
///
/// ```swift
/// var options = ExportOptions(adapters: URL(fileURLWithPath: "output/v0-…/checkpoint-100"))
/// options.mergeLoRA = true                  // → checkpoint-100-merged/
/// options.toGGUF = true; options.ggufType = .q4K   // → checkpoint-100-gguf/model.gguf
/// let result = try Exporter(backend: CPUBackend()).run(options)
/// ```
public struct ExportOptions: Sendable {
    /// `--gguf_type`: the tensor type of the GGUF's weight matrices, as llama.cpp's file types choose them
    /// (`GGUFTensorTypePlan` has the per-tensor rules).
    public enum GGUFType: String, Sendable, CaseIterable, CustomStringConvertible {
        case f32, f16, bf16
        case q8_0, q4_0, q4_1
        /// llama.cpp's Q4_K_M: Q4_K, with Q6_K for the output and for some attn_v and ffn_down layers.
        case q4K = "q4_k"
        /// llama.cpp's Q6_K.
        case q6K = "q6_k"

        public var description: String { rawValue }
    }

    /// `--adapters`: a checkpoint folder (a LoRA adapter, or a full fine-tuning checkpoint for `toGGUF`).
    public var adapters: URL?
    /// `--model`: the base model (HF folder or GGUF file); by default the `model` of the run's args.json.
    public var model: URL?
    /// `--merge_lora`: write the base with the adapter merged as an HF folder.
    public var mergeLoRA = false
    /// `--to_gguf`: write a GGUF file for llama.cpp (the adapter merged in, if any).
    public var toGGUF = false
    /// `--gguf_type`
    public var ggufType: GGUFType = .f16
    /// `--to_ollama`: a GGUF plus an Ollama Modelfile next to it.
    public var toOllama = false
    /// `--output_dir`: where everything goes (default: `<checkpoint>-merged`, `<checkpoint>-gguf`).
    public var outputDirectory: URL?
    /// `--max_shard_size` in bytes (default 5 GB).
    public var maxShardBytes = 5_000_000_000
    /// `--exist_ok`: replace files in an existing output folder instead of refusing.
    public var existOK = false

    public init(adapters: URL? = nil, model: URL? = nil) {
        self.adapters = adapters
        self.model = model
    }

    /// Parses ms-swift's `--max_shard_size`: `5GB`, `500MB`, `10KB`, `2GiB`, or plain bytes (1 GB = 10⁹ bytes, as
    /// transformers counts).
    public static func parseShardSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Double)] = [("GIB", 1_073_741_824), ("MIB", 1_048_576), ("KIB", 1024), ("GB", 1e9), ("MB", 1e6),
                                         ("KB", 1e3), ("G", 1e9), ("M", 1e6), ("K", 1e3), ("B", 1)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value > 0 else {
                return nil
            }
            let bytes = value * scale
            return bytes >= 1 && bytes < 1e18 ? Int(bytes) : nil
        }
        return Int(trimmed).flatMap { $0 > 0 ? $0 : nil }
    }
}
