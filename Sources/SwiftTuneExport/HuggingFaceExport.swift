import SwiftTuneQuantization
import Foundation
import SwiftTuneCheckpoint
import SwiftTuneJSON
import SwiftTuneRunFiles
import SwiftTuneTensor
import SwiftTuneTokenizers

/// Writes the merged model as a Hugging Face folder transformers loads: `config.json`, `generation_config.json`,
/// `model.safetensors` or `model-0000i-of-0000n.safetensors` shards with their index, the tokenizer files and
/// `args.json`. Weights keep the base's storage dtype (f32 for a GGUF base); every file is written atomically.
struct HuggingFaceExport {
    let merged: MergedWeights
    let maxShardBytes: Int

    /// Tokenizer files copied from an HF base when present.
    static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
                                 "merges.txt", "tokenizer.model", "added_tokens.json", "chat_template.jinja"]

    /// The tensors in checkpoint order with their output dtype.
    func entries() throws -> [SafetensorsEntry] {
        try merged.shapes.map { name, shape in
            // An untied copy of tied embeddings takes the embeddings' dtype.
            let stored = merged.base.contains(name) ? name : "model.embed_tokens.weight"
            return SafetensorsEntry(name: name, dtype: try merged.base.storageDType(stored), shape: shape)
        }
    }

    /// Bytes the weights take on disk (shards and index).
    func weightsSize() throws -> Int {
        try SafetensorsWriter.shardedSize(entries: entries(), maxShardBytes: maxShardBytes)
    }

    /// Writes everything into `folder` (which exists); returns notes for the report.
    func write(to folder: URL, arguments: RunArguments) throws -> [String] {
        var notes: [String] = []
        try SafetensorsWriter.writeSharded(entries: entries(), to: folder, maxShardBytes: maxShardBytes) { entry in
            let values = try merged.floats(entry.name)
            defer { merged.release(values) }
            return Self.bytes(values, as: entry.dtype)
        }
        let base = merged.base
        try AtomicFileWriter.write(configJSON(), to: folder.appendingPathComponent("config.json"))
        let generation = base.folder.appendingPathComponent("generation_config.json")
        if base.format == .huggingFace, let data = FileManager.default.contents(atPath: generation.path) {
            try AtomicFileWriter.write(data, to: folder.appendingPathComponent("generation_config.json"))
        } else {
            try AtomicFileWriter.write(merged.config.huggingFaceGenerationConfig().pythonJSONString(indent: 2) + "\n",
                                       to: folder.appendingPathComponent("generation_config.json"))
        }
        if base.format == .huggingFace {
            var copied = 0
            for name in Self.tokenizerFiles {
                guard let data = FileManager.default.contents(atPath: base.folder.appendingPathComponent(name).path) else { continue }
                try AtomicFileWriter.write(data, to: folder.appendingPathComponent(name))
                copied += 1
            }
            if copied == 0 {
                notes.append("\(base.folder.path) has no tokenizer files; copy the base model's tokenizer into the merged folder")
            }
        } else if let vocabulary = base.vocabulary {
            do {
                try AtomicFileWriter.write(try vocabulary.huggingFaceTokenizerJSON(file: base.url.path),
                                           to: folder.appendingPathComponent("tokenizer.json"))
            } catch let error as TokenizerError {
                notes.append("no tokenizer.json: \(error)")
            }
            try AtomicFileWriter.write(vocabulary.huggingFaceTokenizerConfig(modelMaxLength: merged.config.maxPositionEmbeddings),
                                       to: folder.appendingPathComponent("tokenizer_config.json"))
        }
        try AtomicFileWriter.write(arguments.text, to: folder.appendingPathComponent(RunArguments.fileName))
        return notes
    }

    /// The base's config.json (every field kept) with `tie_word_embeddings` and the dtype updated, or one written
    /// from the config for a GGUF base.
    func configJSON() throws -> String {
        let base = merged.base, config = merged.config
        guard base.format == .huggingFace,
              let data = FileManager.default.contents(atPath: base.folder.appendingPathComponent("config.json").path) else {
            return config.huggingFaceConfig(torchDtype: "float32").pythonJSONString(indent: 2) + "\n"
        }
        var root: JSONValue
        do {
            root = try JSONParser.parse(data, options: .python)
        } catch {
            throw CheckpointError.invalidValue(path: base.folder.appendingPathComponent("config.json").path, key: "(file)",
                                               reason: "is not valid JSON: \(error)")
        }
        if config.tieWordEmbeddings != base.config.tieWordEmbeddings, case let .object(members) = root {
            root = .object(members.filter { $0.key != "tie_word_embeddings" }
                + [JSONMember(key: "tie_word_embeddings", value: .bool(config.tieWordEmbeddings))])
        }
        return root.pythonJSONString(indent: 2) + "\n"
    }

    /// f32 values as little-endian `dtype` bytes (bf16 and f16 rounded to nearest even).
    static func bytes(_ values: [Float], as dtype: DType) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * dtype.byteSize)
        out.withUnsafeMutableBytes { raw in
            for (i, value) in values.enumerated() {
                switch dtype {
                case .bf16: raw.storeBytes(of: GGMLQuantizer.bf16(value).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                case .f16: raw.storeBytes(of: Float16(value).bitPattern.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                default: raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                }
            }
        }
        return out
    }
}
