import Foundation
import SwiftTuneEngine

/// One message of a chat request. `content` may be a string or OpenAI's array of parts (only text parts are
/// supported; others are a 400).
public struct ChatMessageIn: Sendable, Equatable, Decodable {
    public var role: String
    public var content: String
    public var name: String?

    enum CodingKeys: String, CodingKey { case role, content, name }

    struct Part: Decodable {
        var type: String
        var text: String?
    }

    public init(role: String, content: String, name: String? = nil) {
        (self.role, self.content, self.name) = (role, content, name)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(String.self, forKey: .role)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        if (try? container.decodeNil(forKey: .content)) ?? false {
            content = ""
        } else if let text = try? container.decode(String.self, forKey: .content) {
            content = text
        } else {
            let parts = try container.decode([Part].self, forKey: .content)
            if let other = parts.first(where: { $0.type != "text" }) {
                throw DecodingError.dataCorruptedError(
                    forKey: .content, in: container, debugDescription: "content parts of type '\(other.type)' are not supported (text only)")
            }
            content = parts.compactMap(\.text).joined()
        }
    }
}

/// `stop`: a string or an array of up to 4 strings.
public struct StopSequences: Sendable, Equatable, Decodable {
    public var values: [String]

    public init(_ values: [String]) { self.values = values }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) { values = [one] } else { values = try container.decode([String].self) }
    }
}

/// The sampling fields shared by chat and text completions: the engine's settings a request gives
/// (`SamplingFlags`, filled from OpenAI's names: `max_tokens` is `maxNewTokens`), plus the fields only the API has.
public struct SamplingFields: Sendable, Equatable {
    /// The settings the request gives; `logprobs` is always set (false when absent), as OpenAI's default.
    public var flags: SamplingFlags
    public var stop: [String]
    /// Choices per prompt.
    public var n: Int

    /// Whether the request asks for log-probabilities.
    public var logprobs: Bool { flags.logprobs ?? false }

    /// Range checks, as OpenAI answers them: a 400 naming the parameter (OpenAI's ranges, e.g. temperature ≤ 2,
    /// which are narrower than the engine's; `GenerationConfig.validate` runs after them on the merged config).
    public func validate() throws(OpenAIError) {
        if let maxTokens = flags.maxNewTokens, maxTokens < 1 {
            throw .invalidRequest("'max_tokens' must be at least 1, got \(maxTokens).", param: "max_tokens")
        }
        if let temperature = flags.temperature, !(0...2).contains(temperature) {
            throw .invalidRequest("'temperature' must be between 0 and 2, got \(temperature).", param: "temperature")
        }
        if let topP = flags.topP, !(topP > 0 && topP <= 1) {
            throw .invalidRequest("'top_p' must be in (0, 1], got \(topP).", param: "top_p")
        }
        if let topK = flags.topK, topK < 0 { throw .invalidRequest("'top_k' must be ≥ 0 (0 disables), got \(topK).", param: "top_k") }
        if let minP = flags.minP, !(0...1).contains(minP) {
            throw .invalidRequest("'min_p' must be in [0, 1], got \(minP).", param: "min_p")
        }
        if let repetitionPenalty = flags.repetitionPenalty, repetitionPenalty <= 0 {
            throw .invalidRequest("'repetition_penalty' must be positive, got \(repetitionPenalty).", param: "repetition_penalty")
        }
        for (name, value) in [("presence_penalty", flags.presencePenalty), ("frequency_penalty", flags.frequencyPenalty)] {
            if let value, !(-2...2).contains(value) { throw .invalidRequest("'\(name)' must be between -2 and 2, got \(value).", param: name) }
        }
        if stop.count > 4 { throw .invalidRequest("'stop' takes at most 4 sequences, got \(stop.count).", param: "stop") }
        if !(1...16).contains(n) { throw .invalidRequest("'n' must be between 1 and 16, got \(n).", param: "n") }
        if let topLogprobs = flags.topLogprobs, !(0...20).contains(topLogprobs) {
            throw .invalidRequest("'top_logprobs' must be between 0 and 20, got \(topLogprobs).", param: "top_logprobs")
        }
    }
}

enum SamplingKeys: String, CodingKey {
    case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens", temperature, topP = "top_p"
    case topK = "top_k", minP = "min_p", repetitionPenalty = "repetition_penalty", presencePenalty = "presence_penalty"
    case frequencyPenalty = "frequency_penalty", stop, seed, n, logprobs, topLogprobs = "top_logprobs"
}

extension SamplingFields {
    /// Decodes the shared fields; `logprobs` is a boolean for chat and an integer (top count) for completions.
    init(from decoder: any Decoder, logprobsIsCount: Bool) throws {
        let c = try decoder.container(keyedBy: SamplingKeys.self)
        flags = SamplingFlags(
            maxNewTokens: try c.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
                ?? c.decodeIfPresent(Int.self, forKey: .maxTokens),
            temperature: try c.decodeIfPresent(Double.self, forKey: .temperature),
            topK: try c.decodeIfPresent(Int.self, forKey: .topK),
            topP: try c.decodeIfPresent(Double.self, forKey: .topP),
            minP: try c.decodeIfPresent(Double.self, forKey: .minP),
            repetitionPenalty: try c.decodeIfPresent(Double.self, forKey: .repetitionPenalty),
            presencePenalty: try c.decodeIfPresent(Double.self, forKey: .presencePenalty),
            frequencyPenalty: try c.decodeIfPresent(Double.self, forKey: .frequencyPenalty),
            seed: try c.decodeIfPresent(UInt64.self, forKey: .seed))
        stop = try c.decodeIfPresent(StopSequences.self, forKey: .stop)?.values ?? []
        n = try c.decodeIfPresent(Int.self, forKey: .n) ?? 1
        if logprobsIsCount {
            let count = try c.decodeIfPresent(Int.self, forKey: .logprobs)
            flags.logprobs = count != nil
            flags.topLogprobs = count
        } else {
            flags.logprobs = try c.decodeIfPresent(Bool.self, forKey: .logprobs) ?? false
            flags.topLogprobs = try c.decodeIfPresent(Int.self, forKey: .topLogprobs)
        }
    }
}

/// `POST /v1/chat/completions`.
public struct ChatCompletionRequest: Sendable, Equatable, Decodable {
    public var model: String
    public var messages: [ChatMessageIn]
    public var sampling: SamplingFields
    public var stream: Bool
    public var includeUsageInStream: Bool

    enum CodingKeys: String, CodingKey { case model, messages, stream, streamOptions = "stream_options" }
    struct StreamOptions: Decodable { var include_usage: Bool? }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        messages = try c.decode([ChatMessageIn].self, forKey: .messages)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        includeUsageInStream = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)?.include_usage ?? false
        sampling = try SamplingFields(from: decoder, logprobsIsCount: false)
    }

    /// Checks what decoding cannot: a non-empty conversation with known roles, and the sampling ranges.
    public func validate() throws(OpenAIError) {
        guard !messages.isEmpty else { throw .invalidRequest("'messages' must contain at least one message.", param: "messages") }
        for (i, message) in messages.enumerated() where !["system", "user", "assistant", "tool"].contains(message.role) {
            throw .invalidRequest("Invalid role '\(message.role)' in messages[\(i)]: expected system, user, assistant or tool.",
                                  param: "messages[\(i)].role")
        }
        try sampling.validate()
    }
}

/// `POST /v1/completions`: `prompt` is a string or an array of strings (one choice set each).
public struct CompletionRequest: Sendable, Equatable, Decodable {
    public var model: String
    public var prompts: [String]
    public var sampling: SamplingFields
    public var stream: Bool
    public var includeUsageInStream: Bool
    public var echo: Bool

    enum CodingKeys: String, CodingKey { case model, prompt, stream, streamOptions = "stream_options", echo }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        if let one = try? c.decode(String.self, forKey: .prompt) { prompts = [one] } else { prompts = try c.decode([String].self, forKey: .prompt) }
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        includeUsageInStream = try c.decodeIfPresent(ChatCompletionRequest.StreamOptions.self, forKey: .streamOptions)?.include_usage ?? false
        echo = try c.decodeIfPresent(Bool.self, forKey: .echo) ?? false
        sampling = try SamplingFields(from: decoder, logprobsIsCount: true)
        if sampling.flags.maxNewTokens == nil { sampling.flags.maxNewTokens = 16 }  // OpenAI's default for completions
    }

    public func validate() throws(OpenAIError) {
        guard !prompts.isEmpty else { throw .invalidRequest("'prompt' must not be empty.", param: "prompt") }
        try sampling.validate()
    }
}

/// Decodes a request body, mapping every failure to an OpenAI 400 that names the field.
public func decodeRequest<Request: Decodable>(_ type: Request.Type, from body: Data) throws(OpenAIError) -> Request {
    guard !body.isEmpty else { throw .invalidRequest("The request body is empty; expected a JSON object.") }
    do {
        return try JSONDecoder().decode(Request.self, from: body)
    } catch {
        throw OpenAIError.decoding(error)
    }
}
