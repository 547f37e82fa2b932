import SwiftTuneCheckpoint
import SwiftTuneTokenizers

extension GGMLVocabulary {
    /// The `tokenizer.ggml.*` metadata and `tokenizer.chat_template` of a GGUF file (FORMATS.md §3). Ids and
    /// types may be stored with any integer type.
    public init(gguf file: GGUFFile) throws {
        guard let model = try file.string("tokenizer.ggml.model") else {
            throw HubError.missingTokenizer(path: file.path, key: "tokenizer.ggml.model")
        }
        guard let tokens = try file.stringArray("tokenizer.ggml.tokens") else {
            throw HubError.missingTokenizer(path: file.path, key: "tokenizer.ggml.tokens")
        }
        func id(_ name: String) throws -> Int32? {
            let key = "tokenizer.ggml.\(name)_token_id"
            guard let value = try file.int(key) else { return nil }
            guard let id = Int32(exactly: value) else {
                throw CheckpointError.invalidValue(path: file.path, key: key, reason: "is \(value), outside 0..<2^31")
            }
            return id
        }
        let types = try file.intArray("tokenizer.ggml.token_type")
        self.init(model: model, pre: try file.string("tokenizer.ggml.pre"), tokens: tokens,
                  tokenTypes: types?.map { Int32(clamping: $0) }, merges: try file.stringArray("tokenizer.ggml.merges"),
                  scores: try file.floatArray("tokenizer.ggml.scores"), bosTokenID: try id("bos"), eosTokenID: try id("eos"),
                  unknownTokenID: try id("unknown"), paddingTokenID: try id("padding"),
                  addBOSToken: try file.bool("tokenizer.ggml.add_bos_token"),
                  addEOSToken: try file.bool("tokenizer.ggml.add_eos_token"),
                  addSpacePrefix: try file.bool("tokenizer.ggml.add_space_prefix"),
                  chatTemplate: try file.string("tokenizer.chat_template"))
    }
}

extension Tokenizer {
    /// The tokenizer of a GGUF file; see `Tokenizer(vocabulary:source:)` for what is supported.
    public convenience init(gguf file: GGUFFile) throws {
        try self.init(vocabulary: GGMLVocabulary(gguf: file), source: file.path)
    }
}
