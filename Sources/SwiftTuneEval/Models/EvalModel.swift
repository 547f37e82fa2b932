import SwiftTuneChat

/// What the evaluator asks of a model: answers to conversations and, where it can, log-likelihoods of given
/// continuations. `LocalEvalModel` runs the engine in this process, `EndpointEvalModel` an OpenAI-compatible server.
public protocol EvalModel: Sendable {
    /// The model's name in the report.
    var name: String { get }
    /// Whether `logLikelihoods` works (an endpoint's chat API gives no prompt log-probabilities).
    var scoresLogLikelihood: Bool { get }
    /// The answers to `conversations`, in order; `progress` receives the number done so far.
    func generate(_ conversations: [Conversation], progress: @escaping @Sendable (Int) -> Void) async throws -> [String]
    /// For each request, `log p(continuation | context)` of each of its continuations (natural log, summed over
    /// the continuation's tokens).
    func logLikelihoods(_ requests: [LogLikelihoodRequest]) async throws -> [[Double]]
}

/// Continuations to score after one context: the conversation's generation prompt (as the chat template renders
/// it, ending with the assistant header), then `prefix`, then each continuation, each tokenized on its own.
public struct LogLikelihoodRequest: Sendable, Equatable {
    public var conversation: Conversation
    /// Text the assistant's turn starts with before the scored part (e.g. `ANSWER:`).
    public var prefix: String
    public var continuations: [String]
    /// The row, for errors (`file:line`).
    public var location: String

    public init(conversation: Conversation, prefix: String, continuations: [String], location: String) {
        self.conversation = conversation
        self.prefix = prefix
        self.continuations = continuations
        self.location = location
    }
}
