import SwiftTuneChat

/// The state of ms-swift's interactive `infer` session (its `InferCliState`), without any input or output: the
/// caller shows `prompt`, passes each line to `submit`, generates when told to, and `record`s the answer.
///
/// Commands (case-insensitive, surrounding spaces ignored): `exit` / `quit` end the session; `clear` forgets the
/// history; `reset-system` makes the next input the system prompt (`default-system` restores the default) and
/// clears the history; `multi-line` collects lines until one ends with `#`; `single-line` switches back.
/// An empty line does nothing. Templates without multi-round support forget the history after every answer.
public struct InteractiveChat: Sendable {
    /// What the caller does next.
    public enum Outcome: Sendable, Equatable {
        /// End the session.
        case exit
        /// Nothing to generate; show `message` if any, then the prompt again.
        case handled(message: String?)
        /// Generate the answer to `conversation`, then `record(response:)` it.
        case generate(conversation: Conversation)
    }

    /// The session's system prompt; nil: the template's (or `--system`'s).
    public private(set) var system: String?
    /// The turns so far, user and assistant.
    public private(set) var messages: [Message] = []
    public private(set) var isMultiLine = false
    /// Whether the next input is the system prompt.
    public private(set) var isReadingSystem = false
    /// Whether the template keeps history.
    public let keepsHistory: Bool
    /// Lines of a multi-line input so far.
    private var pendingLines: [String] = []

    public init(keepsHistory: Bool = true) {
        self.keepsHistory = keepsHistory
    }

    /// The greeting ms-swift prints before the first prompt.
    public var instructions: [String] {
        ["Input `exit` or `quit` to exit the conversation.",
         "Input `multi-line` to switch to multi-line input mode.",
         "Input `reset-system` to reset the system and clear the history.",
         keepsHistory ? "Input `clear` to clear the history." : "The current template only supports single-round dialogues."]
    }

    /// What to show before reading a line: `<<< `, `<<<[S] ` (system), `<<<[M] ` (multi-line; continuation lines
    /// show nothing), `<<<[MS] `.
    public var prompt: String {
        if isMultiLine {
            return pendingLines.isEmpty ? (isReadingSystem ? "<<<[MS] " : "<<<[M] ") : ""
        }
        return isReadingSystem ? "<<<[S] " : "<<< "
    }

    /// Handles one line of input.
    public mutating func submit(_ line: String) -> Outcome {
        var text = line
        if isMultiLine {
            // Multi-line input ends with a line ending in `#` (which is dropped).
            let trimmedEnd = line.trimmingTrailingWhitespace()
            guard trimmedEnd.hasSuffix("#") else {
                pendingLines.append(line)
                return .handled(message: nil)
            }
            pendingLines.append(String(trimmedEnd.dropLast()))
            text = pendingLines.joined(separator: "\n")
            pendingLines = []
        }
        let command = text.trimmingSpaces().lowercased()
        if command == "exit" || command == "quit" { return .exit }
        if isReadingSystem {
            system = text == "default-system" ? nil : text
            isReadingSystem = false
            messages = []
            return .handled(message: nil)
        }
        switch command {
        case "": return .handled(message: nil)
        case "clear":
            messages = []
            return .handled(message: nil)
        case "reset-system":
            isReadingSystem = true
            return .handled(message: nil)
        case "multi-line":
            isMultiLine = true
            return .handled(message: "End multi-line input with `#`. Input `single-line` to switch to single-line input mode.")
        case "single-line":
            isMultiLine = false
            return .handled(message: nil)
        default:
            if !keepsHistory { messages = [] }
            messages.append(.user(text))
            return .generate(conversation: Conversation(system: system, messages: messages))
        }
    }

    /// Adds the answer to the history (call after `.generate`).
    public mutating func record(response: String) {
        messages.append(.assistant(response))
    }

    /// Forgets the question of a `.generate` that failed (e.g. a prompt too long for the context).
    public mutating func discardQuestion() {
        if messages.last?.role == .user { messages.removeLast() }
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    func trimmingTrailingWhitespace() -> String {
        String(reversed().drop { $0.isWhitespace }.reversed())
    }
}
