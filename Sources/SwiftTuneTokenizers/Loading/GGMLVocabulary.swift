/// A tokenizer as llama.cpp's GGUF files describe it (the `tokenizer.ggml.*` keys and `tokenizer.chat_template`;
/// FORMATS.md §3), in plain arrays, so this module needs no GGUF reader. `Tokenizer(vocabulary:)` builds a
/// tokenizer from it; SwiftTuneHub fills it from a `GGUFFile`.
public struct GGMLVocabulary: Sendable, Equatable {
    /// `tokenizer.ggml.token_type` values (llama.cpp `llama_token_type`).
    public enum TokenType: Int32, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// `tokenizer.ggml.model`: `gpt2` (byte-level BPE) or `llama` (SentencePiece).
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer of a `gpt2` vocabulary (`smollm`, `qwen2`, `llama-bpe`, `default`…).
    public var pre: String?
    /// `tokenizer.ggml.tokens`: index = id. Byte-level vocabularies are spelled in the byte-level alphabet.
    public var tokens: [String]
    /// `tokenizer.ggml.token_type`, one per token (raw values of `TokenType`), if present.
    public var tokenTypes: [Int32]?
    /// `tokenizer.ggml.merges`: `"left right"`, rank = index (`gpt2` only).
    public var merges: [String]?
    /// `tokenizer.ggml.scores`, one per token (`llama` only: higher merges first).
    public var scores: [Float]?
    public var bosTokenID: Int32?
    public var eosTokenID: Int32?
    public var unknownTokenID: Int32?
    public var paddingTokenID: Int32?
    /// `tokenizer.ggml.add_bos_token` / `add_eos_token` / `add_space_prefix`; nil: llama.cpp's default.
    public var addBOSToken: Bool?
    public var addEOSToken: Bool?
    public var addSpacePrefix: Bool?
    /// `tokenizer.chat_template` (Jinja).
    public var chatTemplate: String?

    public init(model: String, pre: String? = nil, tokens: [String], tokenTypes: [Int32]? = nil, merges: [String]? = nil,
                scores: [Float]? = nil, bosTokenID: Int32? = nil, eosTokenID: Int32? = nil, unknownTokenID: Int32? = nil,
                paddingTokenID: Int32? = nil, addBOSToken: Bool? = nil, addEOSToken: Bool? = nil,
                addSpacePrefix: Bool? = nil, chatTemplate: String? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.scores = scores
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.unknownTokenID = unknownTokenID
        self.paddingTokenID = paddingTokenID
        self.addBOSToken = addBOSToken
        self.addEOSToken = addEOSToken
        self.addSpacePrefix = addSpacePrefix
        self.chatTemplate = chatTemplate
    }

    /// The `tokenizer.ggml.pre` values `Tokenizer(vocabulary:)` implements for `gpt2` vocabularies.
    public static let supportedPreTokenizers = ["default", "gpt-2", "smollm", "qwen2", "deepseek-r1-qwen", "llama-bpe",
                                                "llama3", "llama-v3"]
}
