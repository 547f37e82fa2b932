import SwiftTuneChat
import SwiftTuneEngine

/// One line of `--result_path`: ms-swift's `infer` result row.
public struct InferenceRecord: Sendable, Equatable, Codable {
    /// The generated answer.
    public var response: String
    /// The dataset's answer (its last assistant message), when it had one.
    public var labels: String?
    /// The conversation the model answered: a system message first when there is one, then the turns (the
    /// dataset's answer removed).
    public var messages: [Message]
    /// OpenAI's `logprobs` object (`{"content": [...]}`), with `--logprobs true`.
    public var logprobs: Logprobs?

    public struct Logprobs: Sendable, Equatable, Codable {
        public var content: [TokenLogprob]

        public init(content: [TokenLogprob]) { self.content = content }
    }

    public init(response: String, labels: String?, messages: [Message], logprobs: Logprobs?) {
        self.response = response
        self.labels = labels
        self.messages = messages
        self.logprobs = logprobs
    }
}
