import Foundation

/// Token counts of a request.
public struct Usage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }

    public init(promptTokens: Int, completionTokens: Int) {
        (self.promptTokens, self.completionTokens) = (promptTokens, completionTokens)
    }

    enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try c.decode(Int.self, forKey: .promptTokens)
        completionTokens = try c.decode(Int.self, forKey: .completionTokens)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(totalTokens, forKey: .totalTokens)
    }
}

/// One sampled token's log-probability and its alternatives (chat format).
public struct TokenLogprob: Sendable, Equatable, Codable {
    public struct Alternative: Sendable, Equatable, Codable {
        public var token: String
        public var logprob: Double
        public var bytes: [UInt8]
        public init(token: String, logprob: Double) { (self.token, self.logprob, bytes) = (token, logprob, Array(token.utf8)) }
    }

    public var token: String
    public var logprob: Double
    public var bytes: [UInt8]
    public var topLogprobs: [Alternative]

    public init(token: String, logprob: Double, top: [Alternative]) {
        (self.token, self.logprob, bytes, topLogprobs) = (token, logprob, Array(token.utf8), top)
    }

    enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }
}

public struct ChatLogprobs: Sendable, Equatable, Codable {
    public var content: [TokenLogprob]
    public init(content: [TokenLogprob]) { self.content = content }
}

/// The assistant message of a choice (or the delta of a stream chunk).
public struct ChatMessageOut: Sendable, Equatable, Codable {
    public var role: String?
    public var content: String?
    public init(role: String? = "assistant", content: String?) { (self.role, self.content) = (role, content) }
}

/// `chat.completion` and `chat.completion.chunk`.
public struct ChatCompletionResponse: Sendable, Equatable, Codable {
    public struct Choice: Sendable, Equatable, Codable {
        public var index: Int
        public var message: ChatMessageOut?
        public var delta: ChatMessageOut?
        public var logprobs: ChatLogprobs?
        public var finishReason: String?

        enum CodingKeys: String, CodingKey { case index, message, delta, logprobs, finishReason = "finish_reason" }

        public init(index: Int, message: ChatMessageOut? = nil, delta: ChatMessageOut? = nil, logprobs: ChatLogprobs? = nil,
                    finishReason: String?) {
            (self.index, self.message, self.delta, self.logprobs, self.finishReason) = (index, message, delta, logprobs, finishReason)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encodeIfPresent(message, forKey: .message)
            try c.encodeIfPresent(delta, forKey: .delta)
            try c.encode(logprobs, forKey: .logprobs)  // null when absent, as OpenAI writes it
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?

    public init(id: String, object: String, created: Int, model: String, choices: [Choice], usage: Usage?) {
        (self.id, self.object, self.created, self.model, self.choices, self.usage) = (id, object, created, model, choices, usage)
    }
}

/// `text_completion` (and its stream chunks, which have the same shape).
public struct CompletionResponse: Sendable, Equatable, Codable {
    public struct Logprobs: Sendable, Equatable, Codable {
        public var tokens: [String]
        public var tokenLogprobs: [Double]
        public var topLogprobs: [[String: Double]]
        public var textOffset: [Int]
        enum CodingKeys: String, CodingKey { case tokens, tokenLogprobs = "token_logprobs", topLogprobs = "top_logprobs", textOffset = "text_offset" }
        public init(tokens: [String], tokenLogprobs: [Double], topLogprobs: [[String: Double]], textOffset: [Int]) {
            (self.tokens, self.tokenLogprobs, self.topLogprobs, self.textOffset) = (tokens, tokenLogprobs, topLogprobs, textOffset)
        }
    }

    public struct Choice: Sendable, Equatable, Codable {
        public var index: Int
        public var text: String
        public var logprobs: Logprobs?
        public var finishReason: String?
        enum CodingKeys: String, CodingKey { case index, text, logprobs, finishReason = "finish_reason" }
        public init(index: Int, text: String, logprobs: Logprobs?, finishReason: String?) {
            (self.index, self.text, self.logprobs, self.finishReason) = (index, text, logprobs, finishReason)
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(text, forKey: .text)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?

    public init(id: String, created: Int, model: String, choices: [Choice], usage: Usage?) {
        (self.id, object, self.created, self.model, self.choices, self.usage) = (id, "text_completion", created, model, choices, usage)
    }
}

/// `GET /v1/models`.
public struct ModelList: Sendable, Equatable, Codable {
    public struct Model: Sendable, Equatable, Codable {
        public var id: String
        public var object = "model"
        public var created: Int
        public var ownedBy: String
        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
        public init(id: String, created: Int, ownedBy: String = "swift-tune") { (self.id, self.created, self.ownedBy) = (id, created, ownedBy) }
    }

    public var object = "list"
    public var data: [Model]
    public init(data: [Model]) { self.data = data }
}

/// Server-sent events: each payload as `data: {...}\n\n`, the stream closed by `data: [DONE]\n\n`.
public enum ServerSentEvents {
    public static let done = Data("data: [DONE]\n\n".utf8)

    public static func event<T: Encodable>(_ payload: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let json = (try? encoder.encode(payload)) ?? Data("{}".utf8)
        return Data("data: ".utf8) + json + Data("\n\n".utf8)
    }
}
