/// One rendered piece of a conversation before tokenization (ms-swift's context list entry).
public struct TemplateContext: Sendable, Equatable {
    /// What produced the piece; decides the loss mask.
    public enum Kind: Sendable, Equatable {
        /// Template text, system, user queries, tool results.
        case other
        /// An assistant answer.
        case response
        /// The template's end after the last answer (trained with `default`).
        case suffix
    }

    /// Text or fixed token ids.
    public enum Content: Sendable, Equatable {
        case text(String)
        case tokens([Int32])
    }

    public var content: Content
    public var kind: Kind
    /// Whether this piece is trained (set by the loss scale).
    public var trained: Bool

    public init(content: Content, kind: Kind, trained: Bool = false) {
        self.content = content
        self.kind = kind
        self.trained = trained
    }
}

/// Whether a conversation is rendered for training (its last answer closed by the suffix) or for generation
/// (ending with the assistant header, ready for the model to answer).
public enum RenderMode: Sendable, Equatable {
    case training
    case generation
}

/// How a template is applied: ms-swift's template arguments that do not depend on the data.
public struct TemplateOptions: Sendable, Equatable {
    /// `--system`: replaces the template's default system (a row's own system still wins).
    public var system: String?
    /// `--use_chat_template false` renders with the plain-text template.
    public var useChatTemplate: Bool
    /// `--loss_scale`.
    public var lossScale: LossScale
    /// Hybrid thinking models: think at generation (nil: the template's default, off for Qwen3).
    public var enableThinking: Bool?
    /// Text to start the generated answer with (ms-swift `--response_prefix`).
    public var responsePrefix: String?
    /// Hybrid thinking templates: leave an answer's leading empty `<think></think>` untrained (ms-swift adds
    /// `+ignore_empty_think` to the loss scale unless `--disable_ignore_empty_think`).
    public var ignoreEmptyThink: Bool

    public init(system: String? = nil, useChatTemplate: Bool = true, lossScale: LossScale = .default,
                enableThinking: Bool? = nil, responsePrefix: String? = nil, ignoreEmptyThink: Bool = true) {
        self.ignoreEmptyThink = ignoreEmptyThink
        self.system = system
        self.useChatTemplate = useChatTemplate
        self.lossScale = lossScale
        self.enableThinking = enableThinking
        self.responsePrefix = responsePrefix
    }
}
