import Foundation
import SwiftTuneChat
import SwiftTuneEngine
import SwiftTuneGeneration

/// `POST /v1/chat/completions`: the messages rendered by the model's chat template, answered as
/// `chat.completion` or a stream of `chat.completion.chunk`s.
enum ChatCompletions {
    /// Decodes, validates and plans a request body (every problem a 400 naming the field, 404 for an unknown
    /// model).
    static func plan(_ body: Data, model: ServedModel) throws(OpenAIError) -> (ChatCompletionRequest, CompletionPlan) {
        let request = try decodeRequest(ChatCompletionRequest.self, from: body)
        try request.validate()
        let conversation = try conversation(of: request.messages)
        let promptIDs: [Int32]
        do {
            promptIDs = try model.inference.promptIDs(for: conversation)
        } catch let error as ChatError {
            throw .chat(error)
        } catch {
            throw .invalidRequest("The messages cannot be rendered: \(error)", param: "messages")
        }
        let plan = try CompletionPlan(model: model, modelName: request.model, prompts: [promptIDs],
                                      sampling: request.sampling, promptParam: "messages")
        return (request, plan)
    }

    /// OpenAI's messages as a conversation: leading system messages become its system prompt (joined by blank
    /// lines); a system message after the first turn is a 400.
    static func conversation(of messages: [ChatMessageIn]) throws(OpenAIError) -> Conversation {
        var system: [String] = []
        var turns: [Message] = []
        for (index, message) in messages.enumerated() {
            switch message.role {
            case "system":
                guard turns.isEmpty else {
                    throw .invalidRequest("messages[\(index)]: a system message must come before the conversation.",
                                          param: "messages[\(index)].role")
                }
                system.append(message.content)
            case "user": turns.append(.user(message.content))
            case "assistant": turns.append(.assistant(message.content))
            case "tool": turns.append(.tool(message.content))
            default:
                throw .invalidRequest("Invalid role '\(message.role)' in messages[\(index)].", param: "messages[\(index)].role")
            }
        }
        guard !turns.isEmpty else {
            throw .invalidRequest("'messages' must contain a user message, not only a system prompt.", param: "messages")
        }
        return Conversation(system: system.isEmpty ? nil : system.joined(separator: "\n\n"), messages: turns)
    }
}

/// `chat.completion` and its chunks.
struct ChatFormat: CompletionFormat {
    let id: String
    let created: Int
    let model: String

    init(model: String) {
        id = responseID("chatcmpl-")
        created = Int(Date().timeIntervalSince1970)
        self.model = model
    }

    func openingChunks(choiceCount: Int) -> [ChatCompletionResponse] {
        (0..<choiceCount).map { chunk([.init(index: $0, delta: ChatMessageOut(role: "assistant", content: ""), finishReason: nil)]) }
    }

    func deltaChunk(choice: Int, text: String, logprobs: [SwiftTuneEngine.TokenLogprob]) -> ChatCompletionResponse {
        chunk([.init(index: choice, delta: ChatMessageOut(role: nil, content: text),
                     logprobs: logprobs.isEmpty ? nil : Self.logprobs(logprobs), finishReason: nil)])
    }

    func finishChunk(choice: Int, result: GenerationResult) -> ChatCompletionResponse {
        chunk([.init(index: choice, delta: ChatMessageOut(role: nil, content: nil), finishReason: result.finishReason.rawValue)])
    }

    func usageChunk(_ usage: Usage) -> ChatCompletionResponse {
        ChatCompletionResponse(id: id, object: "chat.completion.chunk", created: created, model: model, choices: [], usage: usage)
    }

    func response(results: [GenerationResult], usage: Usage) -> ChatCompletionResponse {
        let choices = results.enumerated().map { index, result in
            ChatCompletionResponse.Choice(index: index, message: ChatMessageOut(content: result.text),
                                          logprobs: result.logprobs.map(Self.logprobs),
                                          finishReason: result.finishReason.rawValue)
        }
        return ChatCompletionResponse(id: id, object: "chat.completion", created: created, model: model, choices: choices,
                                      usage: usage)
    }

    private func chunk(_ choices: [ChatCompletionResponse.Choice]) -> ChatCompletionResponse {
        ChatCompletionResponse(id: id, object: "chat.completion.chunk", created: created, model: model, choices: choices,
                               usage: nil)
    }

    static func logprobs(_ entries: [SwiftTuneEngine.TokenLogprob]) -> ChatLogprobs {
        ChatLogprobs(content: entries.map { entry in
            TokenLogprob(token: entry.token, logprob: entry.logprob,
                         top: entry.topLogprobs.map { TokenLogprob.Alternative(token: $0.token, logprob: $0.logprob) })
        })
    }
}
