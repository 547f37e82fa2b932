/// `GenerationConfig`'s decoding settings, each optional: what a caller gave (ms-swift's `infer`/`deploy` flags, an
/// OpenAI request's fields) over a base config; nil keeps the base's value (`GenerationConfig.applying(_:)`).
///
/// The names, domains and defaults are `GenerationConfig`'s; this type only says which were given.
public struct SamplingFlags: Sendable, Equatable {
    public var maxNewTokens: Int?
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var minP: Double?
    public var repetitionPenalty: Double?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var seed: UInt64?
    public var logprobs: Bool?
    public var topLogprobs: Int?
    public var truncation: PromptTruncation?

    public init(maxNewTokens: Int? = nil, temperature: Double? = nil, topK: Int? = nil, topP: Double? = nil,
                minP: Double? = nil, repetitionPenalty: Double? = nil, presencePenalty: Double? = nil,
                frequencyPenalty: Double? = nil, seed: UInt64? = nil, logprobs: Bool? = nil, topLogprobs: Int? = nil,
                truncation: PromptTruncation? = nil) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.seed = seed
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.truncation = truncation
    }
}

extension GenerationConfig {
    /// This config with every setting `flags` gives in place of its own (stops are not among them).
    public func applying(_ flags: SamplingFlags) -> GenerationConfig {
        var config = self
        if let value = flags.maxNewTokens { config.maxNewTokens = value }
        if let value = flags.temperature { config.temperature = value }
        if let value = flags.topK { config.topK = value }
        if let value = flags.topP { config.topP = value }
        if let value = flags.minP { config.minP = value }
        if let value = flags.repetitionPenalty { config.repetitionPenalty = value }
        if let value = flags.presencePenalty { config.presencePenalty = value }
        if let value = flags.frequencyPenalty { config.frequencyPenalty = value }
        if let value = flags.seed { config.seed = value }
        if let value = flags.logprobs { config.logprobs = value }
        if let value = flags.topLogprobs { config.topLogprobs = value }
        if let value = flags.truncation { config.truncation = value }
        return config
    }
}
