/// One prompt to continue.
public struct GenerationRequest: Sendable, Equatable {
    /// The prompt's token ids (a chat prompt already rendered by the template).
    public var promptIDs: [Int32]
    public var config: GenerationConfig
    /// A registered adapter to run this request with (`GenerationEngine.registerAdapter`); nil: the model as it
    /// was handed to the engine.
    public var adapter: String?

    public init(promptIDs: [Int32], config: GenerationConfig = GenerationConfig(), adapter: String? = nil) {
        self.promptIDs = promptIDs
        self.config = config
        self.adapter = adapter
    }
}

/// Why an answer ended (OpenAI's `finish_reason`).
public enum FinishReason: String, Sendable, Equatable, Codable {
    /// A stop token or stop string.
    case stop
    /// `max_new_tokens`, or the context is full.
    case length
}

/// A token's log-probability in OpenAI's `logprobs.content[i]` form.
public struct TokenLogprob: Sendable, Equatable, Codable {
    /// Its text (special tokens as written, e.g. `<|im_end|>`).
    public var token: String
    public var logprob: Double
    /// The UTF-8 bytes of `token`.
    public var bytes: [UInt8]
    /// The most likely alternatives at this step, most likely first (empty unless `topLogprobs` > 0).
    public var topLogprobs: [TopLogprob]

    public struct TopLogprob: Sendable, Equatable, Codable {
        public var token: String
        public var logprob: Double
        public var bytes: [UInt8]
    }

    enum CodingKeys: String, CodingKey {
        case token, logprob, bytes
        case topLogprobs = "top_logprobs"
    }
}

/// What a request produced.
public struct GenerationResult: Sendable, Equatable {
    /// Prompt tokens actually used (after left-truncation, if any).
    public var promptTokenCount: Int
    /// Every new id, the stop token included.
    public var tokenIDs: [Int32]
    /// The answer: the new tokens' text up to (not including) a stop token or stop string.
    public var text: String
    public var finishReason: FinishReason
    /// Per new token, when asked for.
    public var logprobs: [TokenLogprob]?
}

/// What `GenerationEngine.generate` reports while it runs, per request (by index in the request list).
public enum GenerationEvent: Sendable, Equatable {
    /// New answer text (never half a UTF-8 character, never part of a stop string).
    case delta(request: Int, text: String)
    /// The request is done.
    case finished(request: Int, result: GenerationResult)
}
