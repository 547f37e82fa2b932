import Foundation

/// A chat template as data, like ms-swift's `TemplateMeta`.
///
/// ```
/// <prefix or system_prefix>             e.g. <|im_start|>system\n{{SYSTEM}}<|im_end|>\n
/// <prompt>{{RESPONSE}}<chat_sep>        e.g. <|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n … <|im_end|>\n
/// <prompt>{{RESPONSE}}<suffix>          the last round; the suffix is added only when training
/// ```
/// A `{{SYSTEM}}` in `prefix` makes that prefix the `systemPrefix` (the plain prefix then drops it); a
/// `{{SYSTEM}}` piece in `prompt` means the system goes into the last user turn (Mistral-style "post system").
public struct ChatTemplate: Sendable, Equatable {
    /// The registry name (`--template`).
    public var name: String
    /// Start of every conversation without a system prompt.
    public var prefix: [TemplatePiece]
    /// One user turn followed by the assistant header.
    public var prompt: [TemplatePiece]
    /// Between an assistant answer and the next user turn; nil: the template is single-round.
    public var chatSep: [TemplatePiece]?
    /// After the last assistant answer when training (its end token).
    public var suffix: [TemplatePiece]
    /// Start of a conversation with a system prompt; nil (and no post-system prompt): system unsupported.
    public var systemPrefix: [TemplatePiece]?
    /// The system used when neither the row nor `--system` gives one.
    public var defaultSystem: String?
    /// Prepend the tokenizer's BOS (and append whatever it adds after a text) as `tokenizer.encode("a")` shows.
    public var autoAddBOS: Bool
    /// Extra stop words for generation (the suffix's stop and the EOS token are added at run time).
    public var stopWords: [String]
    /// Thinking model (ms-swift `is_thinking`).
    public var isThinking: Bool
    /// Prefix for a thinking answer at generation (`<think>\n`).
    public var thinkingPrefix: String
    /// Prefix added to non-thinking assistant answers of hybrid models (Qwen3: `<think>\n\n</think>\n\n`).
    public var nonThinkingPrefix: String
    /// Prefix kept when earlier rounds' thinking is removed.
    public var historyThinkingPrefix: String
    /// The prompt used for the last round when the system goes into the last user turn (post system).
    public private(set) var systemPrompt: [TemplatePiece]?

    public init(name: String, prefix: [TemplatePiece], prompt: [TemplatePiece], chatSep: [TemplatePiece]?,
                suffix: [TemplatePiece] = [.eosToken], systemPrefix: [TemplatePiece]? = nil,
                defaultSystem: String? = nil, autoAddBOS: Bool = false, stopWords: [String] = [],
                isThinking: Bool = false, thinkingPrefix: String = "", nonThinkingPrefix: String = "",
                historyThinkingPrefix: String = "") {
        self.name = name
        self.prefix = prefix
        self.prompt = prompt
        self.chatSep = chatSep
        self.suffix = suffix
        self.systemPrefix = systemPrefix
        self.defaultSystem = defaultSystem
        self.autoAddBOS = autoAddBOS
        self.stopWords = stopWords
        self.isThinking = isThinking
        self.thinkingPrefix = thinkingPrefix
        self.nonThinkingPrefix = nonThinkingPrefix
        self.historyThinkingPrefix = historyThinkingPrefix
        // As TemplateMeta.__post_init__: a {{SYSTEM}} in the prefix makes it the system prefix.
        if prefix.contains(where: \.containsSystem) {
            self.systemPrefix = prefix
            self.prefix = prefix.map {
                if case let .text(s) = $0 { return .text(s.replacingOccurrences(of: "{{SYSTEM}}", with: "")) }
                return $0
            }
        }
        if prompt.contains(where: \.containsSystem) {
            self.systemPrompt = prompt
            self.prompt = prompt.filter { !$0.containsSystem }
        }
    }

    /// System text goes into the last user turn (ms-swift `is_post_system`).
    public var isPostSystem: Bool { systemPrompt != nil }
    /// Whether a system prompt can be rendered at all.
    public var supportsSystem: Bool { systemPrefix != nil || isPostSystem }
    /// Whether several rounds can be rendered (otherwise only the last round is kept, as ms-swift warns).
    public var supportsMultiRound: Bool { chatSep != nil }

    /// The template `--use_chat_template false` uses (ms-swift `to_generate_template_meta`): no prefix, the
    /// query as is, single round, BOS added automatically, EOS as suffix.
    public func plainText() -> ChatTemplate {
        ChatTemplate(name: name, prefix: [], prompt: ["{{QUERY}}"], chatSep: nil, suffix: [.eosToken],
                     autoAddBOS: true, stopWords: stopWords)
    }

    /// The stop word that ends an answer: the suffix's last piece, trimmed (ms-swift `suffix_stop`).
    public var suffixStop: String? {
        guard let last = suffix.last, case let .text(s) = last else { return nil }
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Stop words for generation: the template's, its suffix stop and the tokenizer's EOS token text.
    public func allStopWords(eosToken: String?) -> [String] {
        var words = stopWords
        if let stop = suffixStop, !words.contains(stop) { words.append(stop) }
        if let eosToken, !words.contains(eosToken) { words.append(eosToken) }
        return words
    }
}
