/// The sampling flags as given (nil: not given), ms-swift's names.
public struct SamplingFlags: Sendable, Equatable {
    public var maxNewTokens: Int?
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var minP: Double?
    public var repetitionPenalty: Double?
    public var seed: UInt64?
    public var logprobs: Bool?
    public var topLogprobs: Int?
    public var truncation: PromptTruncation?

    public init(maxNewTokens: Int? = nil, temperature: Double? = nil, topK: Int? = nil, topP: Double? = nil,
                minP: Double? = nil, repetitionPenalty: Double? = nil, seed: UInt64? = nil, logprobs: Bool? = nil,
                topLogprobs: Int? = nil, truncation: PromptTruncation? = nil) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.truncation = truncation
    }
}
