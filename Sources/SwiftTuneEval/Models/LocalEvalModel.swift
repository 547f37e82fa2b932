import SwiftTuneChat
import SwiftTuneGeneration
import SwiftTuneModels

/// A model loaded in this process (`--model` / `--adapters`): answers through the batched generation engine, and
/// log-likelihoods from forward passes of packed batches (no generation, no logits materialised: the fused
/// lm_head + cross-entropy returns each target's log-probability).
public final class LocalEvalModel: EvalModel, @unchecked Sendable {
    public let inference: Inference
    public let name: String
    /// Tokens per forward pass at most when scoring (sequences are packed up to it; a longer one goes alone).
    public let tokensPerPass: Int

    public init(inference: Inference, name: String? = nil, tokensPerPass: Int = 4096) {
        self.inference = inference
        self.name = name ?? inference.modelFolder.lastPathComponent
        self.tokensPerPass = tokensPerPass
    }

    public var scoresLogLikelihood: Bool { true }

    public func generate(_ conversations: [Conversation],
                         progress: @escaping @Sendable (Int) -> Void) async throws -> [String] {
        try inference.respond(to: conversations, onFinished: progress).map(\.text)
    }

    /// The token ids of one request: its context, and each continuation's.
    public func tokenIDs(_ request: LogLikelihoodRequest) throws -> (context: [Int32], continuations: [[Int32]]) {
        let tokenizer = inference.tokenizer
        let context = try inference.promptIDs(for: request.conversation)
            + (request.prefix.isEmpty ? [] : tokenizer.encode(request.prefix, addSpecialTokens: false))
        return (context, request.continuations.map { tokenizer.encode($0, addSpecialTokens: false) })
    }

    public func logLikelihoods(_ requests: [LogLikelihoodRequest]) async throws -> [[Double]] {
        let model = inference.engine.model
        let context = model.config.maxPositionEmbeddings
        // Every (request, continuation) pair is one sequence: the context unscored, the continuation scored.
        var sequences: [(ids: [Int32], labels: [Int32], request: Int)] = []
        for (index, request) in requests.enumerated() {
            let (prompt, continuations) = try tokenIDs(request)
            for continuation in continuations {
                let ids = prompt + continuation
                guard ids.count <= context else {
                    throw EvalError.promptTooLong(location: request.location, tokens: ids.count, context: context)
                }
                let labels = [Int32](repeating: TokenBatch.ignoreIndex, count: prompt.count) + continuation
                sequences.append((ids, labels, index))
            }
        }
        var sums: [Double] = []
        var start = 0
        while start < sequences.count {
            var end = start + 1, tokens = sequences[start].ids.count
            while end < sequences.count, tokens + sequences[end].ids.count <= tokensPerPass {
                tokens += sequences[end].ids.count
                end += 1
            }
            let group = sequences[start..<end]
            let batch = try TokenBatch(sequences: group.map(\.ids), labels: group.map(\.labels))
            try batch.validate(vocabularySize: model.config.vocabSize)
            let output = try model.loss(try batch.upload(to: model.backend), wantLogProbabilities: true)
            guard let logProbabilities = output.logProbabilities else {
                throw EvalError.invalidSetting(flag: "eval_mcq_scoring", value: "loglikelihood",
                                               expected: "a model that returns token log-probabilities")
            }
            let values = try model.backend.floats(logProbabilities)  // (N) log p(target) per position
            for s in 0..<group.count {
                let range = Int(batch.sequenceStarts[s])..<Int(batch.sequenceStarts[s + 1])
                sums.append(range.reduce(0.0) { sum, t in
                    batch.targets[t] == TokenBatch.ignoreIndex ? sum : sum + Double(values[t])
                })
            }
            start = end
        }
        var result = requests.map { _ in [Double]() }
        for (sequence, sum) in zip(sequences, sums) { result[sequence.request].append(sum) }
        return result
    }
}
