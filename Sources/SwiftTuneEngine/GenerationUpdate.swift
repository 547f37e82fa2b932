/// One request's news, in order: deltas, then `.finished` (or `.failed`); the stream ends after it.
public enum GenerationUpdate: Sendable {
    /// New answer text (empty when the step's token added none yet: part of a character, a possible stop-string
    /// start, a stop token), the number of tokens sampled since the last update, and their log-probabilities when
    /// the request asked for them.
    case delta(text: String, tokenCount: Int, logprobs: [TokenLogprob])
    /// The request ended normally (a stop or the length limit).
    case finished(GenerationResult)
    /// The engine failed, or the scheduler stopped the request at shutdown.
    case failed(any Error)
}
