import SwiftTuneQuantization
import Foundation
import SwiftTuneCheckpoint
import SwiftTuneTokenizers

/// Writes the merged model as a GGUF v3 file for llama.cpp: llama.cpp's tensor names, q/k rows in ggml's RoPE order
/// for `llama`, the hyperparameters, tokenizer and chat template in metadata, and each tensor quantized with ggml's
/// reference rounding as it streams by (one tensor in memory at a time).
struct GGUFExport {
    let merged: MergedWeights
    let vocabulary: GGMLVocabulary
    let type: ExportOptions.GGUFType
    let name: String

    /// GGUF name → HF key, with `rope_freqs.weight` (generated, no HF key) mapped to nil.
    let sources: [(gguf: String, huggingFace: String?, dimensions: [Int])]
    let plan: GGUFTensorTypePlan
    let metadata: [(key: String, value: GGUFValue)]

    init(merged: MergedWeights, vocabulary: GGMLVocabulary, type: ExportOptions.GGUFType, name: String) throws {
        self.merged = merged
        self.vocabulary = vocabulary
        self.type = type
        self.name = name
        let config = merged.config
        guard vocabulary.tokens.count == config.vocabSize else {
            throw ExportError.unsupported(
                what: "tokenizer", reason: "has \(vocabulary.tokens.count) tokens, but the embeddings have \(config.vocabSize) rows",
                hint: "llama.cpp needs one token per embedding row; use the tokenizer the model was trained with")
        }
        var sources: [(String, String?, [Int])] = []
        for (hf, shape) in merged.shapes {
            guard let gguf = GGUFTensorNames.ggufName(hf) else {
                throw ExportError.unsupported(what: hf, reason: "has no llama.cpp tensor name", hint: "this tensor cannot be exported to GGUF")
            }
            sources.append((gguf, hf, shape.reversed()))
        }
        if let factors = config.ggufRopeFrequencyFactors() { sources.append(("rope_freqs.weight", nil, [factors.count])) }
        sources.sort { Self.precedes($0.0, $1.0) }
        self.sources = sources.map { (gguf: $0.0, huggingFace: $0.1, dimensions: $0.2) }
        plan = GGUFTensorTypePlan(tensors: sources.map { ($0.0, $0.2) }, type: type, tiedEmbeddings: config.tieWordEmbeddings)
        metadata = try Self.metadata(config: config, vocabulary: vocabulary, name: name, fileType: plan.fileType)
    }

    /// llama-quantize's tensor order (its `weight_name_comparer`): tensors outside the blocks first, then blocks by
    /// index, by name within each.
    static func precedes(_ a: String, _ b: String) -> Bool {
        func layer(_ name: String) -> Int {
            guard name.hasPrefix("blk.") else { return -1 }
            return Int(name.dropFirst(4).prefix { $0.isNumber }) ?? -1
        }
        let (la, lb) = (layer(a), layer(b))
        if la != lb { return la < lb }
        return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
    }

    var descriptors: [GGUFTensorDescriptor] {
        sources.map { GGUFTensorDescriptor(name: $0.gguf, dimensions: $0.dimensions, type: plan.types[$0.gguf] ?? .f32) }
    }

    /// The size of the file `write` produces.
    var fileSize: Int { GGUFStreamWriter.fileSize(metadata: metadata, tensors: descriptors) }

    /// Streams the file to `url` (atomically).
    func write(to url: URL) throws {
        let descriptors = descriptors
        let config = merged.config
        try GGUFStreamWriter.write(to: url, metadata: metadata, tensors: descriptors) { index in
            let source = sources[index], descriptor = descriptors[index]
            guard let hf = source.huggingFace else {
                return try GGMLQuantizer.quantize(config.ggufRopeFrequencyFactors() ?? [], rowLength: source.dimensions[0], as: .f32)
            }
            var values = try merged.floats(hf)
            defer { merged.release(values) }
            if config.ggufPermutesRotaryRows, let heads = Self.rotaryHeads(hf, config) {
                let rows = source.dimensions.count == 1 ? values.count : source.dimensions[1]
                let rowLength = values.count / max(rows, 1)
                guard RotaryRowPermutation.applies(rows: rows, heads: heads) else {
                    throw ExportError.unsupported(what: hf, reason: "has \(rows) rows, not \(heads) heads of an even width",
                                                  hint: "llama.cpp's RoPE needs an even head dimension")
                }
                values = RotaryRowPermutation.ggufOrder(values, rows: rows, rowLength: rowLength, heads: heads)
            }
            return try GGMLQuantizer.quantize(values, rowLength: source.dimensions[0], as: descriptor.type)
        }
    }

    /// Heads for the q/k permutation of `name` (q: heads, k: kv heads), nil for other tensors.
    static func rotaryHeads(_ name: String, _ config: DecoderConfig) -> Int? {
        if name.hasSuffix("self_attn.q_proj.weight") || name.hasSuffix("self_attn.q_proj.bias") { return config.numAttentionHeads }
        if name.hasSuffix("self_attn.k_proj.weight") || name.hasSuffix("self_attn.k_proj.bias") { return config.numKeyValueHeads }
        return nil
    }

    /// `general.*`, the hyperparameters, then `tokenizer.*`, in convert_hf_to_gguf.py's order.
    static func metadata(config: DecoderConfig, vocabulary: GGMLVocabulary, name: String,
                         fileType: UInt32) throws -> [(key: String, value: GGUFValue)] {
        var entries: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string(config.ggufArchitecture)),
            ("general.type", .string("model")),
            ("general.name", .string(name)),
        ]
        entries += try config.ggufMetadata()
        entries.append(("general.file_type", .uint32(fileType)))
        entries.append(("general.quantization_version", .uint32(2)))
        entries.append(("tokenizer.ggml.model", .string(vocabulary.model)))
        if let pre = vocabulary.pre { entries.append(("tokenizer.ggml.pre", .string(pre))) }
        entries.append(("tokenizer.ggml.tokens", .array(elementType: .string, values: vocabulary.tokens.map(GGUFValue.string))))
        if let scores = vocabulary.scores {
            entries.append(("tokenizer.ggml.scores", .array(elementType: .float32, values: scores.map(GGUFValue.float32))))
        }
        if let types = vocabulary.tokenTypes {
            entries.append(("tokenizer.ggml.token_type", .array(elementType: .int32, values: types.map(GGUFValue.int32))))
        }
        if let merges = vocabulary.merges {
            entries.append(("tokenizer.ggml.merges", .array(elementType: .string, values: merges.map(GGUFValue.string))))
        }
        let ids: [(String, Int32?)] = [("bos", vocabulary.bosTokenID), ("eos", vocabulary.eosTokenID),
                                       ("unknown", vocabulary.unknownTokenID), ("padding", vocabulary.paddingTokenID)]
        for case let (key, id?) in ids where id >= 0 {
            entries.append(("tokenizer.ggml.\(key)_token_id", .uint32(UInt32(id))))
        }
        let flags: [(String, Bool?)] = [("add_bos_token", vocabulary.addBOSToken), ("add_eos_token", vocabulary.addEOSToken),
                                        ("add_space_prefix", vocabulary.addSpacePrefix)]
        for case let (key, flag?) in flags { entries.append(("tokenizer.ggml.\(key)", .bool(flag))) }
        if let template = vocabulary.chatTemplate { entries.append(("tokenizer.chat_template", .string(template))) }
        return entries
    }
}
