import Foundation
import SwiftTuneEngine
import SwiftTuneGeneration

/// `POST /v1/completions`: each prompt continued as plain text (no chat template), answered as `text_completion`
/// (streamed chunks have the same shape). With several prompts, choice `prompt · n + i` is the i-th answer to a
/// prompt.
enum TextCompletions {
    /// Decodes, validates and plans a request body.
    static func plan(_ body: Data, model: ServedModel) throws(OpenAIError) -> (CompletionRequest, CompletionPlan) {
        let request = try decodeRequest(CompletionRequest.self, from: body)
        try request.validate()
        if request.echo, request.sampling.logprobs {
            throw .invalidRequest("'echo' together with 'logprobs' is not supported.", param: "echo")
        }
        let tokenizer = model.inference.tokenizer
        let prompts = request.prompts.map { tokenizer.encode($0, addSpecialTokens: true) }
        let plan = try CompletionPlan(model: model, modelName: request.model, prompts: prompts, sampling: request.sampling,
                                      promptParam: "prompt")
        return (request, plan)
    }
}

/// `text_completion` and its chunks.
struct TextFormat: CompletionFormat {
    let id: String
    let created: Int
    let model: String
    /// The prompt each choice repeats before its answer (`echo`); nil: none.
    let echo: [String]?

    init(model: String, prompts: [String], choicesPerPrompt: Int, echo: Bool) {
        id = responseID("cmpl-")
        created = Int(Date().timeIntervalSince1970)
        self.model = model
        self.echo = echo ? prompts.flatMap { Array(repeating: $0, count: choicesPerPrompt) } : nil
    }

    func openingChunks(choiceCount: Int) -> [CompletionResponse] {
        guard let echo else { return [] }
        return echo.enumerated().map { chunk(.init(index: $0.offset, text: $0.element, logprobs: nil, finishReason: nil)) }
    }

    func deltaChunk(choice: Int, text: String, logprobs: [SwiftTuneEngine.TokenLogprob]) -> CompletionResponse {
        chunk(.init(index: choice, text: text, logprobs: logprobs.isEmpty ? nil : Self.logprobs(logprobs, offset: 0),
                    finishReason: nil))
    }

    func finishChunk(choice: Int, result: GenerationResult) -> CompletionResponse {
        chunk(.init(index: choice, text: "", logprobs: nil, finishReason: result.finishReason.rawValue))
    }

    func usageChunk(_ usage: Usage) -> CompletionResponse {
        CompletionResponse(id: id, created: created, model: model, choices: [], usage: usage)
    }

    func response(results: [GenerationResult], usage: Usage) -> CompletionResponse {
        let choices = results.enumerated().map { index, result in
            let prefix = echo?[index] ?? ""
            return CompletionResponse.Choice(index: index, text: prefix + result.text,
                                             logprobs: result.logprobs.map { Self.logprobs($0, offset: prefix.count) },
                                             finishReason: result.finishReason.rawValue)
        }
        return CompletionResponse(id: id, created: created, model: model, choices: choices, usage: usage)
    }

    private func chunk(_ choice: CompletionResponse.Choice) -> CompletionResponse {
        CompletionResponse(id: id, created: created, model: model, choices: [choice], usage: nil)
    }

    /// The legacy logprobs object: tokens, their log-probabilities, the alternatives by token text, and each
    /// token's character offset in the text (from `offset`).
    static func logprobs(_ entries: [SwiftTuneEngine.TokenLogprob], offset: Int) -> CompletionResponse.Logprobs {
        var offsets: [Int] = []
        var position = offset
        for entry in entries {
            offsets.append(position)
            position += entry.token.count
        }
        return CompletionResponse.Logprobs(
            tokens: entries.map(\.token), tokenLogprobs: entries.map(\.logprob),
            topLogprobs: entries.map { entry in
                Dictionary(entry.topLogprobs.map { ($0.token, $0.logprob) }, uniquingKeysWith: { first, _ in first })
            },
            textOffset: offsets)
    }
}
