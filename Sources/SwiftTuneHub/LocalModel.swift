import Foundation
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneQuantization
import SwiftTuneTensor
import SwiftTuneTokenizers

/// Loads a model from a local path, whatever its format: a Hugging Face folder or a GGUF file.
///
/// ```swift
/// let loaded = try LocalModel.load(path: URL(fileURLWithPath: "SmolLM2-135M-Instruct.Q4_1.gguf"), backend: backend)
/// let ids = loaded.tokenizer.encode("Hello", addSpecialTokens: true)
/// ```
public enum LocalModel {
    /// What a path holds, once checked.
    public enum Source: Sendable, Equatable {
        /// A folder with config.json, model.safetensors (or its sharded index) and tokenizer.json.
        case huggingFaceFolder(URL)
        /// A GGUF file (given directly, or the only one in a folder without config.json).
        case gguf(URL)
    }

    /// Files a Hugging Face model folder needs; the weights may be one file or a sharded index.
    static let configFile = "config.json", tokenizerFile = "tokenizer.json"

    /// Decides what `path` holds without reading the weights. Throws `HubError` naming what is missing.
    public static func resolve(path: URL) throws -> Source {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw HubError.notFound(path: path.relativePath)  // as the user gave it
        }
        if !isDirectory.boolValue {
            if path.pathExtension.lowercased() == "gguf" || startsWithGGUFMagic(path) { return .gguf(path) }
            let known = [configFile, tokenizerFile, ModelWeights.singleFileName, ModelWeights.indexFileName]
            if known.contains(path.lastPathComponent) || path.pathExtension == "safetensors" {
                throw HubError.unrecognizedFile(path: path.path, reason: "is one file of a model folder; pass the folder "
                                                    + path.deletingLastPathComponent().path)
            }
            throw HubError.unrecognizedFile(path: path.path, reason: "is not a GGUF file (it does not start with \"GGUF\")")
        }
        let found = ((try? manager.contentsOfDirectory(atPath: path.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        let ggufFiles = found.filter { $0.lowercased().hasSuffix(".gguf") }
        if !found.contains(configFile), !ggufFiles.isEmpty {
            guard ggufFiles.count == 1 else { throw HubError.ambiguousLocalGGUF(path: path.path, files: ggufFiles) }
            return .gguf(path.appendingPathComponent(ggufFiles[0]))
        }
        var missing: [String] = []
        if !found.contains(configFile) { missing.append(configFile) }
        if !found.contains(ModelWeights.singleFileName) && !found.contains(ModelWeights.indexFileName) {
            missing.append("\(ModelWeights.singleFileName) (or \(ModelWeights.indexFileName) with its shards)")
        }
        if !found.contains(tokenizerFile) { missing.append(tokenizerFile) }
        guard missing.isEmpty else { throw HubError.incompleteModelFolder(path: path.path, missing: missing, found: found) }
        return .huggingFaceFolder(path)
    }

    /// Loads the model at `path` onto `backend` in `precision`, with its tokenizer and chat template. A GGUF file's
    /// quantized linear weights are decoded at load time unless `quantized` keeps them packed; an HF folder's linear
    /// weights are quantized to bitsandbytes' 4-bit format as they load with `fourBit` (QLoRA), and its embedding
    /// table stays in host memory with `offloadEmbedding` (a GGUF model ignores both).
    public static func load(path: URL, backend: any Backend, precision: Precision = .f32,
                            quantized: QuantizedWeightLoading = .dequantize,
                            fourBit: FourBitQuantization? = nil, offloadEmbedding: Bool = false) throws -> LoadedModel {
        switch try resolve(path: path) {
        case let .huggingFaceFolder(folder):
            let tokenizer = try Tokenizer(contentsOf: folder)
            let model = try DecoderModel.load(directory: folder, backend: backend, precision: precision, fourBit: fourBit,
                                              offloadEmbedding: offloadEmbedding)
            return LoadedModel(model: model, tokenizer: tokenizer, chatTemplate: tokenizer.chatTemplate,
                               name: folder.lastPathComponent, source: folder, format: .huggingFace)
        case let .gguf(url):
            let file = try GGUFFile(url: url)
            let tokenizer = try Tokenizer(gguf: file)  // before the weights: cheap, and fails fast
            let model = try DecoderModel.load(gguf: GGUFWeights(file: file), backend: backend, precision: precision,
                                              quantized: quantized)
            let name = try file.string("general.name") ?? url.deletingPathExtension().lastPathComponent
            return LoadedModel(model: model, tokenizer: tokenizer, chatTemplate: tokenizer.chatTemplate, name: name,
                               source: url, format: .gguf)
        }
    }

    /// The tokenizer of what a `--model` path names, without reading any weights: a `tokenizer.json` file, a folder
    /// holding one, or a GGUF file (its embedded vocabulary) or a folder holding exactly one. Throws `HubError`
    /// naming what is missing.
    public static func tokenizer(at path: URL) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw HubError.notFound(path: path.path)
        }
        if isDirectory.boolValue ? FileManager.default.fileExists(atPath: path.appendingPathComponent(tokenizerFile).path)
            : path.pathExtension.lowercased() == "json" {
            return try Tokenizer(contentsOf: path)
        }
        switch try resolve(path: path) {
        case let .gguf(url): return try Tokenizer(gguf: GGUFFile(url: url))
        case let .huggingFaceFolder(folder): return try Tokenizer(contentsOf: folder)
        }
    }

    private static func startsWithGGUFMagic(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)) == Data("GGUF".utf8)
    }
}
