/// Errors of chat templates and encoding. Each names what was wrong, where, expected vs got, and a hint.
public enum ChatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--template NAME` is not a known template.
    case unknownTemplate(name: String, known: [String])
    /// A system prompt was given to a template that cannot render one.
    case systemNotSupported(template: String)
    /// The messages do not alternate user/tool → assistant as a template needs.
    case invalidRoleOrder(messageIndex: Int, expected: String, got: Role)
    /// Nothing to encode.
    case emptyConversation
    /// The template needs the tokenizer's BOS/EOS token, which it does not have.
    case missingSpecialToken(template: String, token: String)
    /// `--loss_scale` value not known.
    case unknownLossScale(String)
    /// A tool definition or tool call that is not a JSON object.
    case invalidTool(index: Int, reason: String)

    public var description: String {
        switch self {
        case let .unknownTemplate(name, known):
            return "unknown template '\(name)': expected one of \(known.joined(separator: ", ")). "
                + "Hint: leave --template out to choose from the model's config and chat_template."
        case let .systemNotSupported(template):
            return "template '\(template)' does not support a system prompt, but one was given. "
                + "Hint: drop --system / the row's system, or pick a template with a system prefix."
        case let .invalidRoleOrder(index, expected, got):
            return "message \(index): expected role \(expected), got \(got.rawValue). "
                + "Hint: turns must alternate user (or tool) → assistant after an optional leading system."
        case .emptyConversation:
            return "conversation has no messages. Hint: a row needs at least one user or assistant message."
        case let .missingSpecialToken(template, token):
            return "template '\(template)' needs the tokenizer's \(token) token, but the tokenizer has none. "
                + "Hint: set bos_token/eos_token in tokenizer_config.json or choose another --template."
        case let .unknownLossScale(value):
            return "unknown --loss_scale '\(value)': expected default, last_round or all."
        case let .invalidTool(index, reason):
            return "tool \(index): \(reason). Hint: each tool must be a JSON object such as "
                + "{\"name\": ..., \"description\": ..., \"parameters\": {...}}."
        }
    }
}
