import SwiftTuneJSON

/// A conversation to render: an optional system prompt, the turns, and optional tool definitions.
///
/// `system` set here (a dataset row's system) wins over `--system` and over the template's default system.
/// A leading `.system` message in `messages` is moved into `system` by ``normalized()``.
public struct Conversation: Codable, Sendable, Equatable {
    public var system: String?
    public var messages: [Message]
    /// Tool (function) definitions, each a JSON object, rendered into the system prompt (hermes style).
    public var tools: [JSONValue]?

    public init(system: String? = nil, messages: [Message], tools: [JSONValue]? = nil) {
        self.system = system
        self.messages = messages
        self.tools = tools
    }

    /// The same conversation with a leading system message lifted into ``system`` (ms-swift does this
    /// before encoding); later system messages stay where they are.
    public func normalized() -> Conversation {
        var copy = self
        if let first = copy.messages.first, first.role == .system {
            copy.system = first.content
            copy.messages.removeFirst()
        }
        return copy
    }
}

/// One dataset row after preprocessing: the conversation plus what preference training needs.
public struct DatasetRow: Codable, Sendable, Equatable {
    /// The conversation; for DPO/KTO its last assistant message is the chosen (or judged) response.
    public var conversation: Conversation
    /// DPO: the rejected final assistant answer (ms-swift's `rejected_response`).
    public var rejectedResponse: String?
    /// DPO with a whole rejected conversation (ms-swift's `rejected_messages`).
    public var rejectedMessages: [Message]?
    /// KTO: whether the final answer is desirable.
    public var label: Bool?

    public init(conversation: Conversation, rejectedResponse: String? = nil, rejectedMessages: [Message]? = nil,
                label: Bool? = nil) {
        self.conversation = conversation
        self.rejectedResponse = rejectedResponse
        self.rejectedMessages = rejectedMessages
        self.label = label
    }

    /// The rejected conversation for DPO: `rejectedMessages`, or the conversation with its last assistant
    /// message replaced by `rejectedResponse`; nil when the row has neither.
    public var rejectedConversation: Conversation? {
        if let rejectedMessages {
            return Conversation(system: conversation.system, messages: rejectedMessages, tools: conversation.tools)
                .normalized()
        }
        guard let rejectedResponse else { return nil }
        var copy = conversation
        if let last = copy.messages.lastIndex(where: { $0.role == .assistant }), last == copy.messages.count - 1 {
            copy.messages[last] = Message(role: .assistant, content: rejectedResponse)
        } else {
            copy.messages.append(Message(role: .assistant, content: rejectedResponse))
        }
        return copy
    }

    enum CodingKeys: String, CodingKey {
        case conversation, label
        case rejectedResponse = "rejected_response"
        case rejectedMessages = "rejected_messages"
    }
}
