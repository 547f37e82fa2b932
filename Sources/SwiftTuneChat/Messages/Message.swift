import SwiftTuneJSON

/// Who wrote a message. ms-swift's `tool_call` / `tool_response` roles map to an assistant message with
/// ``Message/toolCalls`` and to ``tool``.
public enum Role: String, Codable, Sendable, CaseIterable {
    case system
    case user
    case assistant
    case tool
}

/// One function call an assistant message makes (OpenAI's `tool_calls[i].function`).
public struct ToolCall: Codable, Sendable, Equatable {
    public var name: String
    /// The arguments object (or whatever JSON the dataset gave).
    public var arguments: JSONValue

    public init(name: String, arguments: JSONValue) {
        self.name = name
        self.arguments = arguments
    }
}

/// One chat message. Every dataset format (messages, ShareGPT, Alpaca, query/response, DPO, KTO) becomes
/// a list of these, as torchtune does with its single `Message` type.
public struct Message: Codable, Sendable, Equatable {
    public var role: Role
    public var content: String
    /// Function calls made by an assistant message; the template renders them after `content`.
    public var toolCalls: [ToolCall]?
    /// ms-swift's per-message `loss`: `true`/`false` force training on this assistant message or not;
    /// `nil` follows `--loss_scale`.
    public var loss: Bool?

    public init(role: Role, content: String, toolCalls: [ToolCall]? = nil, loss: Bool? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.loss = loss
    }

    public static func system(_ text: String) -> Message { Message(role: .system, content: text) }
    public static func user(_ text: String) -> Message { Message(role: .user, content: text) }
    public static func assistant(_ text: String) -> Message { Message(role: .assistant, content: text) }
    public static func tool(_ text: String) -> Message { Message(role: .tool, content: text) }

    enum CodingKeys: String, CodingKey {
        case role, content, loss
        case toolCalls = "tool_calls"
    }
}
