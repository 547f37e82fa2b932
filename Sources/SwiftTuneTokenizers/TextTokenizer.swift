/// What the rest of swift-tune needs from a tokenizer: text ↔ ids and the special tokens.
///
/// `Tokenizer` (loaded from HF `tokenizer.json` + `tokenizer_config.json`, or from GGUF metadata) is the
/// implementation; the protocol keeps templates and datasets independent of how a vocabulary was loaded.
public protocol TextTokenizer: Sendable {
    /// Number of ids, including added tokens.
    var vocabularySize: Int { get }
    /// Token ids for `text`. Special and added tokens written in the text are matched as such (HF's default).
    /// With `addSpecialTokens`, the post-processor's tokens (e.g. Llama 3's `<|begin_of_text|>`) are added.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int32]
    /// Text for `ids`; invalid UTF-8 becomes U+FFFD. With `skipSpecialTokens`, special tokens are left out.
    func decode(_ ids: [Int32], skipSpecialTokens: Bool) -> String
    /// The id of a token string (vocabulary or added token), if any.
    func tokenID(_ token: String) -> Int32?
    /// The token string of an id, if any.
    func token(_ id: Int32) -> String?
    var bosTokenID: Int32? { get }
    var eosTokenID: Int32? { get }
    var padTokenID: Int32? { get }
    /// The Jinja chat template from `tokenizer_config.json` or GGUF metadata, used to pick a template.
    var chatTemplate: String? { get }
}

extension TextTokenizer {
    /// Token ids for `text` with the post-processor's special tokens (HF's default).
    public func encode(_ text: String) -> [Int32] { encode(text, addSpecialTokens: true) }

    /// Text for `ids`, special tokens included.
    public func decode(_ ids: [Int32]) -> String { decode(ids, skipSpecialTokens: false) }
}
