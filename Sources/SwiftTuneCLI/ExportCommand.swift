import ArgumentParser
import Foundation
import SwiftTuneExport

/// `swift-tune export`: merge a LoRA checkpoint, write an HF folder, a GGUF for llama.cpp, an Ollama Modelfile.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Merge LoRA adapters; write HF safetensors, GGUF (llama.cpp) and an Ollama Modelfile.",
        discussion: """
            Examples:
              swift-tune export --adapters output/v0-…/checkpoint-100 --merge_lora true
              swift-tune export --adapters output/v0-…/checkpoint-100 --to_gguf true --gguf_type q4_k
              swift-tune export --model path/to/model --to_ollama true --gguf_type q8_0
            --model defaults to the model of the run's args.json. Outputs go next to the checkpoint (<ckpt>-merged, \
            <ckpt>-gguf, <ckpt>-ollama) or into --output_dir; an existing one is refused unless --exist_ok true.
            """)

    @OptionGroup var flags: ExportFlags

    func run() async throws { try await flags.export() }
}

/// `swift-tune merge-lora`: ms-swift's alias of `export --merge_lora true`.
struct MergeLoRACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-lora",
        abstract: "Merge a LoRA checkpoint into its base model (the same as export --merge_lora true).",
        discussion: "Example: swift-tune merge-lora --adapters output/v0-…/checkpoint-100 (writes <ckpt>-merged)")

    @OptionGroup var flags: ExportFlags

    func run() async throws {
        var flags = flags
        flags.mergeLoRA = true
        try await flags.export()
    }
}

/// The flags of `export` (and `merge-lora`), and the export they describe.
struct ExportFlags: ParsableArguments {
    @Option(name: flag("adapters"), parsing: .upToNextOption, help: "The checkpoint folder: a LoRA adapter (or a full checkpoint for --to_gguf).")
    var adapters: [String] = []

    @Option(name: flag("model"), help: "The base model: an HF folder, a .gguf file or a hub id (default: from the run's args.json).")
    var model: String?

    @Option(name: flag("merge_lora"), help: "Write the model with the adapter merged as an HF folder: true or false.")
    var mergeLoRA = false

    @Option(name: flag("to_gguf"), help: "Write a GGUF file for llama.cpp: true or false.")
    var toGGUF = false

    @Option(name: flag("gguf_type"), help: "GGUF tensor type: \(ExportOptions.GGUFType.allCases.map(\.rawValue).joined(separator: ", ")).")
    var ggufType = "f16"

    @Option(name: flag("to_ollama"), help: "Write a GGUF and an Ollama Modelfile: true or false.")
    var toOllama = false

    @Option(name: flag("output_dir"), help: "Where to write (default: next to the checkpoint).")
    var outputDir: String?

    @Option(name: flag("max_shard_size"), help: "Largest safetensors shard, e.g. 5GB or 500MB.")
    var maxShardSize = "5GB"

    @Option(name: flag("exist_ok"), help: "Overwrite an existing output folder: true or false.")
    var existOK = false

    @Option(name: flag("device"), help: "Where adapters are merged: cpu or cuda (default cpu).")
    var device: String?

    @OptionGroup var hub: HubFlags

    func validate() throws {
        guard ExportOptions.GGUFType(rawValue: ggufType.lowercased()) != nil else {
            throw ValidationError("--gguf_type \(ggufType): expected one of \(ExportOptions.GGUFType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard ExportOptions.parseShardSize(maxShardSize) != nil else {
            throw ValidationError("--max_shard_size \(maxShardSize): expected a size such as 5GB, 500MB or a byte count")
        }
        guard adapters.count <= 1 else { throw ValidationError("--adapters: export merges one checkpoint at a time") }
        if let device, !["cpu", "cuda"].contains(device) { throw ValidationError("--device \(device): expected cpu or cuda") }
    }

    func export() async throws {
        var options = ExportOptions(adapters: adapters.first.map { URL(fileURLWithPath: $0) })
        options.mergeLoRA = mergeLoRA
        options.toGGUF = toGGUF
        options.toOllama = toOllama
        options.ggufType = ExportOptions.GGUFType(rawValue: ggufType.lowercased()) ?? .f16
        options.outputDirectory = outputDir.map { URL(fileURLWithPath: $0) }
        options.maxShardBytes = ExportOptions.parseShardSize(maxShardSize) ?? 5_000_000_000
        options.existOK = existOK
        if let spec = try model ?? options.adapters.flatMap({ try Exporter.baseModelSpec(checkpoint: $0) }) {
            options.model = try await hub.resolveModel(spec)
        }
        let exporter = Exporter(backend: try DeviceChoice.pick(device ?? "cpu"))
        let result = try exporter.run(options) { print($0) }
        for note in result.notes { print("note: \(note)") }
        if !result.fallbacks.isEmpty {
            print("\(result.fallbacks.count) tensor(s) could not use \(options.ggufType) (llama.cpp's fallbacks):")
            for fallback in result.fallbacks { print("  \(fallback)") }
        }
        if let folder = result.mergedFolder { print("merged model: \(folder.path)") }
        if let file = result.ggufFile { print("GGUF: \(file.path)") }
        if let file = result.modelfile {
            print("Modelfile: \(file.path) (ollama create NAME -f \(file.path))")
        }
    }
}
