import Foundation
import SwiftTuneCheckpoint
import SwiftTuneJSON
import SwiftTuneRunFiles
import SwiftTuneTensor
import SwiftTuneTokenizers

/// What an export wrote.
public struct ExportResult: Sendable {
    /// The merged HF folder (`--merge_lora`).
    public var mergedFolder: URL?
    /// The GGUF file (`--to_gguf`, `--to_ollama`).
    public var ggufFile: URL?
    /// The Ollama Modelfile (`--to_ollama`).
    public var modelfile: URL?
    /// Tensors whose shape could not use the requested GGUF type, and the type they got.
    public var fallbacks: [GGUFTypeFallback] = []
    /// Things the user should know (a tokenizer that could not be written, a guessed template family).
    public var notes: [String] = []
    /// How much tensor data was alive at once.
    public var memory = ExportMemoryStatistics()
}

/// `swift-tune export`: merges a LoRA adapter into its base model and writes it as an HF folder, a GGUF file
/// for llama.cpp, and an Ollama Modelfile, streaming one tensor at a time from the memory-mapped inputs.
///
/// Every output goes into a hidden staging folder and is published only when complete (see `OutputFolder`); on any
/// error, including a full disk, nothing is left under the final names. Free space is checked before writing.
public struct Exporter {
    public let backend: any Backend
    /// Free bytes on the output's file system; replaceable in tests.
    var availableBytes: (URL) -> Int? = { FileSystemSpace.availableBytes($0).map(Int.init) }

    /// - Parameter backend: where adapters are merged (`W += scale·B·A`); the CPU backend is enough.
    public init(backend: any Backend) {
        self.backend = backend
    }

    /// The model a checkpoint was trained from, as its run recorded it: `model` in `args.json` next to the
    /// checkpoint (or in the run folder above it), else the adapter's `base_model_name_or_path`. A hub id is
    /// returned as is, for the caller to resolve.
    public static func baseModelSpec(checkpoint: URL) throws -> String? {
        // Only an adapter has a base; a full checkpoint is the model itself.
        guard FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent("adapter_config.json").path) else {
            return nil
        }
        for folder in [checkpoint, checkpoint.deletingLastPathComponent()] {
            if let model = try RunArguments.read(in: folder)?.model { return model }
        }
        let adapterConfig = checkpoint.appendingPathComponent("adapter_config.json")
        if let data = FileManager.default.contents(atPath: adapterConfig.path),
           let root = try? JSONParser.parse(data, options: .python),
           let base = root["base_model_name_or_path"]?.stringValue, !base.isEmpty {
            return base
        }
        return nil
    }

    /// Runs the export; `log` receives one line per step.
    public func run(_ options: ExportOptions, log: (String) -> Void = { _ in }) throws -> ExportResult {
        do {
            return try export(options, log: log)
        } catch let CheckpointError.io(path, _, reason) where reason == String(cString: strerror(ENOSPC)) {
            throw ExportError.diskFull(path: path)
        }
    }

    private func export(_ options: ExportOptions, log: (String) -> Void) throws -> ExportResult {
        let request = try ExportRequest(options)
        let base = try ExportBase(url: request.base)
        let adapter = try request.adapter.map { try ExportAdapter(directory: $0, base: base.config) }
        log("base model: \(base.url.path) (\(base.config.modelType.rawValue), \(base.format == .gguf ? "GGUF" : "safetensors"))")
        if let adapter { log("adapter: \(adapter.directory.path) (r \(adapter.config.lora.rank), \(adapter.modules.count) modules)") }

        let merged = MergedWeights(base: base, adapter: adapter, backend: backend)
        var result = ExportResult()
        var huggingFace: HuggingFaceExport?
        var gguf: GGUFExport?
        if options.mergeLoRA { huggingFace = HuggingFaceExport(merged: merged, maxShardBytes: options.maxShardBytes) }
        if options.toGGUF || options.toOllama {
            gguf = try GGUFExport(merged: merged, vocabulary: try ggufVocabulary(base), type: options.ggufType, name: base.name)
            if let window = merged.config.layerSlidingWindows.compactMap({ $0 }).min(), window < merged.config.maxPositionEmbeddings {
                result.notes.append("the model attends within a sliding window of \(window) tokens, which GGUF's "
                    + "\(merged.config.ggufArchitecture) architecture cannot express: llama.cpp attends to the whole context "
                    + "(as with llama.cpp's own converter); outputs differ once a prompt is longer than the window")
            }
        }

        // Folders: checked for existence before any work, filled in staging, published at the end.
        var folders: [URL: OutputFolder] = [:]
        defer { for folder in folders.values { folder.discard() } }
        func folder(_ url: URL) throws -> OutputFolder {
            if let existing = folders[url.standardizedFileURL] { return existing }
            let created = try OutputFolder(final: url, existOK: options.existOK)
            folders[url.standardizedFileURL] = created
            return created
        }
        let mergedFolder = try huggingFace.map { _ in try folder(request.mergedOutput) }
        let ggufFolder = try gguf.map { _ in try folder(request.ggufOutput) }

        let needed = try (huggingFace?.weightsSize() ?? 0) + (gguf?.fileSize ?? 0) + 1_000_000
        if let volume = folders.values.first?.volume, let available = availableBytes(volume), available < needed {
            throw ExportError.insufficientDiskSpace(path: volume.deletingLastPathComponent().path, needed: needed, available: available)
        }

        if let huggingFace, let mergedFolder {
            log("writing the merged model to \(mergedFolder.final.path)")
            let arguments = try Self.exportArguments(options, request: request)
            result.notes += try huggingFace.write(to: mergedFolder.staging, arguments: arguments)
            result.mergedFolder = mergedFolder.final
        }
        if let gguf, let ggufFolder {
            log("writing \(options.ggufType) GGUF to \(ggufFolder.final.appendingPathComponent(request.ggufFileName).path)")
            for fallback in gguf.plan.fallbacks { log("  fallback: \(fallback)") }
            try gguf.write(to: ggufFolder.staging.appendingPathComponent(request.ggufFileName))
            result.fallbacks = gguf.plan.fallbacks
            result.ggufFile = ggufFolder.final.appendingPathComponent(request.ggufFileName)
            if options.toOllama {
                let (modelfile, note) = try ollamaModelfile(base: base, vocabulary: gguf.vocabulary, request: request)
                if let note { result.notes.append(note) }
                try AtomicFileWriter.write(modelfile.text, to: ggufFolder.staging.appendingPathComponent("Modelfile"))
                result.modelfile = ggufFolder.final.appendingPathComponent("Modelfile")
            }
        }
        for folder in folders.values { try folder.publish() }
        result.memory = merged.statistics
        return result
    }

    /// The tokenizer for GGUF metadata: the GGUF base's own, or the HF base's tokenizer.json converted.
    private func ggufVocabulary(_ base: ExportBase) throws -> GGMLVocabulary {
        if let vocabulary = base.vocabulary { return vocabulary }
        let tokenizer = base.folder.appendingPathComponent("tokenizer.json")
        guard let data = FileManager.default.contents(atPath: tokenizer.path) else {
            throw ExportError.unsupported(what: base.folder.path, reason: "has no tokenizer.json",
                                          hint: "llama.cpp needs the tokenizer in the GGUF; add the base model's tokenizer files")
        }
        let config = FileManager.default.contents(atPath: base.folder.appendingPathComponent("tokenizer_config.json").path)
        return try GGMLVocabulary(tokenizerJSON: data, file: tokenizer.path, tokenizerConfig: config,
                                  vocabularySize: base.config.vocabSize, defaultBOS: base.config.bosTokenId,
                                  defaultEOS: base.config.eosTokenIds.first)
    }

    private func ollamaModelfile(base: ExportBase, vocabulary: GGMLVocabulary,
                                 request: ExportRequest) throws -> (OllamaModelfile, String?) {
        let args = try request.checkpoint.flatMap { try RunArguments.find(near: $0) }
        var note: String?
        let recognised = vocabulary.chatTemplate.flatMap { OllamaModelfile.Family.detect(jinja: $0) }
            ?? args?.template.flatMap { OllamaModelfile.Family.detect(templateName: $0) }
        // Else the turns of the template `infer` picks for the model's family with nothing else to go on.
        let fallback = base.config.modelType.chatTemplate.name
        let family = recognised ?? OllamaModelfile.Family.detect(templateName: fallback) ?? .chatML
        if recognised == nil {
            note = "the chat template's family was not recognised; the Modelfile uses \(family.rawValue) turns, as for the "
                + "\(base.config.modelType) family's default template \(fallback) (edit its TEMPLATE if needed)"
        }
        var generation: JSONValue?
        if base.format == .huggingFace,
           let data = FileManager.default.contents(atPath: base.folder.appendingPathComponent("generation_config.json").path) {
            generation = try? JSONParser.parse(data, options: .python)
        }
        let modelfile = OllamaModelfile(ggufFileName: request.ggufFileName, family: family,
                                        generationConfig: generation, system: args?.system)
        return (modelfile, note)
    }

    /// The checkpoint's run arguments with the export's own on top (moved to the end), as ms-swift writes args.json
    /// for an export.
    static func exportArguments(_ options: ExportOptions, request: ExportRequest) throws -> RunArguments {
        let run = try request.checkpoint.flatMap { try RunArguments.find(near: $0) }
        var arguments = try RunArguments(file: request.mergedOutput.appendingPathComponent(RunArguments.fileName),
                                         members: run?.members ?? [])
        let overrides: [(String, JSONValue)] = [
            ("model", .string(request.base.path)),
            ("adapters", .array(request.adapter.map { [.string($0.path)] } ?? [])),
            ("merge_lora", .bool(options.mergeLoRA)),
            ("to_gguf", .bool(options.toGGUF)),
            ("gguf_type", .string(options.ggufType.rawValue)),
            ("to_ollama", .bool(options.toOllama)),
            ("output_dir", .string(request.mergedOutput.path)),
            ("max_shard_size", .number(JSONNumber(options.maxShardBytes))),
            ("exist_ok", .bool(options.existOK)),
        ]
        for (key, value) in overrides { try arguments.set(key, value, movingToEnd: true) }
        return arguments
    }
}

/// The flags resolved into paths: base model, adapter, output locations.
struct ExportRequest {
    let checkpoint: URL?
    let base: URL
    let adapter: URL?
    let mergedOutput: URL
    let ggufOutput: URL
    let ggufFileName = "model.gguf"

    init(_ options: ExportOptions) throws {
        let manager = FileManager.default
        guard options.mergeLoRA || options.toGGUF || options.toOllama else {
            throw ExportError.invalidRequest(reason: "nothing to do", hint: "pass --merge_lora true, --to_gguf true or --to_ollama true")
        }
        guard options.maxShardBytes > 0 else {
            throw ExportError.invalidRequest(reason: "--max_shard_size must be positive", hint: "e.g. 5GB or 500MB")
        }
        checkpoint = options.adapters?.standardizedFileURL
        var adapter: URL?
        var base = options.model?.standardizedFileURL
        if let checkpoint {
            guard manager.fileExists(atPath: checkpoint.path) else {
                throw ExportError.invalidRequest(reason: "--adapters \(checkpoint.path) does not exist",
                                                 hint: "pass a checkpoint folder such as output/v0-…/checkpoint-100")
            }
            let isAdapter = manager.fileExists(atPath: checkpoint.appendingPathComponent("adapter_config.json").path)
            let isModel = manager.fileExists(atPath: checkpoint.appendingPathComponent("config.json").path)
                && (manager.fileExists(atPath: checkpoint.appendingPathComponent("model.safetensors").path)
                    || manager.fileExists(atPath: checkpoint.appendingPathComponent("model.safetensors.index.json").path))
            if isAdapter {
                adapter = checkpoint
                if base == nil {
                    guard let spec = try Exporter.baseModelSpec(checkpoint: checkpoint) else {
                        throw ExportError.missingBaseModel(checkpoint: checkpoint.path,
                                                           reason: "neither args.json nor adapter_config.json names it")
                    }
                    guard manager.fileExists(atPath: spec) else {
                        throw ExportError.missingBaseModel(checkpoint: checkpoint.path,
                                                           reason: "the run's model \"\(spec)\" is not a local path")
                    }
                    base = URL(fileURLWithPath: spec).standardizedFileURL
                }
            } else if isModel {
                guard !options.mergeLoRA else { throw ExportError.nothingToMerge(checkpoint: checkpoint.path) }
                base = checkpoint
            } else {
                throw ExportError.invalidRequest(
                    reason: "\(checkpoint.path) is neither a LoRA checkpoint (adapter_config.json) nor a model (config.json + safetensors)",
                    hint: "pass a checkpoint-N folder of an sft run")
            }
        } else if options.mergeLoRA {
            throw ExportError.invalidRequest(reason: "--merge_lora needs --adapters", hint: "pass the LoRA checkpoint to merge")
        }
        guard let base else {
            throw ExportError.invalidRequest(reason: "no model", hint: "pass --model (an HF folder or .gguf file) or --adapters")
        }
        self.base = base
        self.adapter = adapter
        // ms-swift names outputs after the checkpoint: <ckpt>-merged; a model converted on its own after the model.
        let stem = checkpoint ?? (base.pathExtension.lowercased() == "gguf" ? base.deletingPathExtension() : base)
        func sibling(_ suffix: String) -> URL {
            stem.deletingLastPathComponent().appendingPathComponent(stem.lastPathComponent + suffix)
        }
        mergedOutput = options.outputDirectory?.standardizedFileURL ?? sibling("-merged")
        ggufOutput = options.outputDirectory?.standardizedFileURL ?? sibling(options.toOllama ? "-ollama" : "-gguf")
        let inputs = [checkpoint, base.pathExtension.lowercased() == "gguf" ? base.deletingLastPathComponent() : base]
            .compactMap { $0?.resolvingSymlinksInPath().path }
        for output in [mergedOutput, ggufOutput] where inputs.contains(output.resolvingSymlinksInPath().path) {
            throw ExportError.invalidRequest(reason: "--output_dir \(output.path) is where the checkpoint or base model is",
                                             hint: "write the export into a folder of its own")
        }
    }
}
