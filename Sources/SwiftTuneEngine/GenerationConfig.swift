/// How one request is decoded: HF transformers' `generate` settings (https://huggingface.co/docs/transformers,
/// `GenerationConfig`) with ms-swift's names, plus stops and log-probabilities.
///
/// Every value here is explicit: `temperature` 0 is greedy, `topK` 0, `topP` 1 and `minP` 0 switch their filter
/// off, and nothing is stopped on unless listed. `GenerationDefaults.config(applying:)` fills it from a model's
/// `generation_config.json` and the flags the way ms-swift does.
public struct GenerationConfig: Sendable, Equatable {
    /// New tokens at most; nil: until a stop or the context is full.
    public var maxNewTokens: Int?
    /// Softmax temperature; 0 picks the most likely token (greedy, `do_sample=False`).
    public var temperature: Double
    /// Keep the `topK` most likely tokens (0: all).
    public var topK: Int
    /// Keep the most likely tokens whose probabilities add up to `topP` (1: all); in (0, 1].
    public var topP: Double
    /// Drop tokens less likely than `minP` × the most likely one (0: none); in [0, 1].
    public var minP: Double
    /// CTRL's repetition penalty (https://arxiv.org/abs/1909.05858) on every id of the prompt and the answer so far:
    /// a positive logit is divided by it, a negative one multiplied (1: off).
    public var repetitionPenalty: Double
    /// Seed of this request's sampler: the same seed gives the same tokens, alone or in a batch.
    public var seed: UInt64
    /// Ids that end the answer (EOS, the template's end-of-turn); not part of the text.
    public var stopTokenIDs: Set<Int32>
    /// Texts that end the answer wherever they appear, also across token boundaries; cut from the text.
    public var stopStrings: [String]
    /// Return each new token's log-probability (of the model's distribution, before penalty and filters).
    public var logprobs: Bool
    /// With `logprobs`, also the `topLogprobs` most likely tokens at each step (at most 20, as OpenAI's API).
    public var topLogprobs: Int
    /// What to do with a prompt that leaves no room in the context.
    public var truncation: PromptTruncation
    /// OpenAI's `presence_penalty`: subtracted once from the score of every id already in the answer; in [-2, 2]
    /// (0: off).
    public var presencePenalty: Double = 0
    /// OpenAI's `frequency_penalty`: subtracted from an id's score once per time it is already in the answer; in
    /// [-2, 2] (0: off).
    public var frequencyPenalty: Double = 0

    public init(maxNewTokens: Int? = nil, temperature: Double = 0, topK: Int = 0, topP: Double = 1, minP: Double = 0,
                repetitionPenalty: Double = 1, seed: UInt64 = 42, stopTokenIDs: Set<Int32> = [],
                stopStrings: [String] = [], logprobs: Bool = false, topLogprobs: Int = 0,
                truncation: PromptTruncation = .error) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
        self.stopTokenIDs = stopTokenIDs
        self.stopStrings = stopStrings
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.truncation = truncation
    }

    /// Whether tokens are drawn at random (temperature above 0).
    public var isSampling: Bool { temperature > 0 }

    /// Checks every value against its domain; the error names the flag.
    public func validate() throws(GenerationError) {
        if let maxNewTokens, maxNewTokens < 1 {
            throw .invalidSetting(flag: "max_new_tokens", value: "\(maxNewTokens)", expected: "a positive integer")
        }
        guard temperature.isFinite, temperature >= 0 else {
            throw .invalidSetting(flag: "temperature", value: "\(temperature)", expected: "a number ≥ 0 (0 is greedy)")
        }
        guard topK >= 0 else { throw .invalidSetting(flag: "top_k", value: "\(topK)", expected: "an integer ≥ 0 (0 is off)") }
        guard topP > 0, topP <= 1 else {
            throw .invalidSetting(flag: "top_p", value: "\(topP)", expected: "a number in (0, 1] (1 is off)")
        }
        guard minP >= 0, minP <= 1 else {
            throw .invalidSetting(flag: "min_p", value: "\(minP)", expected: "a number in [0, 1] (0 is off)")
        }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw .invalidSetting(flag: "repetition_penalty", value: "\(repetitionPenalty)",
                                  expected: "a number > 0 (1 is off)")
        }
        guard (0...20).contains(topLogprobs) else {
            throw .invalidSetting(flag: "top_logprobs", value: "\(topLogprobs)", expected: "an integer in 0...20")
        }
        if topLogprobs > 0, !logprobs {
            throw .invalidSetting(flag: "top_logprobs", value: "\(topLogprobs)", expected: "0 unless --logprobs true")
        }
        for (flag, value) in [("presence_penalty", presencePenalty), ("frequency_penalty", frequencyPenalty)]
        where !(value.isFinite && (-2...2).contains(value)) {
            throw .invalidSetting(flag: flag, value: "\(value)", expected: "a number in [-2, 2] (0 is off)")
        }
        if let empty = stopStrings.firstIndex(of: "") {
            throw .invalidSetting(flag: "stop_words", value: "\"\" (entry \(empty))", expected: "non-empty strings")
        }
    }
}

/// A prompt that leaves no room for an answer (as long as the context or longer): an error, or keep its end
/// (ms-swift's `--truncation_strategy`).
public enum PromptTruncation: String, Sendable, Equatable, CaseIterable {
    /// Refuse the request, saying how long the prompt is and what the context holds.
    case error
    /// Drop tokens from the start: keep the last `context − reserve` prompt tokens, where the reserve for the answer
    /// is `max_new_tokens` (or, without it, half the context), at most `context − 1`.
    case left
}
