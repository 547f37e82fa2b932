import Foundation
import SwiftTuneChat
import SwiftTuneJSON

/// Turns one raw record into a ``DatasetRow``, as ms-swift's `AutoPreprocessor` does: `--columns` renames first,
/// then automatic column mapping, then the messages / Alpaca / query-response preprocessor.
///
/// Formats: OpenAI `messages` (`role`/`content`, `tool_calls`), ShareGPT `conversations` (`from`/`value` with
/// human/gpt/system/function_call/observation, or `{"human": …, "assistant": …}` pairs), Alpaca
/// (`instruction`, `input`, `output`, `system`, `history`), query/response (+ `history`, `system`, and the
/// aliases prompt/question/problem → query, answer/output/target/… → response), DPO (`rejected_response`,
/// `rejected_messages`, or `chosen`/`rejected` columns), KTO (`label`).
public struct RowPreprocessor: Sendable {
    /// `--columns` renames (source → target), applied first, matched case-insensitively.
    public var columns: [(from: String, to: String)]
    /// ms-swift's automatic column mapping (`--disable_auto_column_mapping` turns it off).
    public var autoColumnMapping: Bool
    /// Whether a row must end with an assistant answer (training); inference takes rows that end with the
    /// user's turn as prompts.
    public var requiresAnswer: Bool

    public init(columns: [(from: String, to: String)] = [], autoColumnMapping: Bool = true, requiresAnswer: Bool = true) {
        self.columns = columns
        self.autoColumnMapping = autoColumnMapping
        self.requiresAnswer = requiresAnswer
    }

    /// Parses `--columns` (a JSON object of strings, e.g. `{"prompt": "query"}`).
    public static func parseColumns(_ text: String) throws(DataError) -> [(from: String, to: String)] {
        let value: JSONValue
        do { value = try JSONParser.parse(text, options: .python) } catch { throw .invalidColumns(text, reason: "\(error)") }
        guard let members = value.objectMembers else { throw .invalidColumns(text, reason: "expected an object, got \(value.typeDescription)") }
        var out: [(from: String, to: String)] = []
        for m in members {
            guard let to = m.value.stringValue else { throw .invalidColumns(text, reason: "value of '\(m.key)' is \(m.value.typeDescription), expected a string") }
            out.append((m.key, to))
        }
        return out
    }

    static let messageKeys = ["messages", "conversation", "conversations"]
    static let systemKeys = ["system", "system_prompt"]
    static let queryKeys = ["query", "prompt", "input", "instruction", "question", "problem"]
    static let responseKeys = ["response", "answer", "output", "targets", "target", "answer_key", "answers", "solution",
                               "text", "completion", "content"]

    typealias Fields = [JSONMember]

    /// ms-swift `safe_rename_columns`: keys matched case-insensitively; when two keys map to one target neither
    /// is renamed; a key already named as its target stays.
    static func rename(_ fields: Fields, _ mapping: [(from: String, to: String)]) -> Fields {
        var renames: [String: String] = [:]  // actual key -> target
        for (from, to) in mapping {
            if let key = fields.first(where: { $0.key.lowercased() == from.lowercased() })?.key { renames[key] = to }
        }
        var targetCount: [String: Int] = [:]
        for target in renames.values { targetCount[target, default: 0] += 1 }
        renames = renames.filter { targetCount[$0.value] == 1 && $0.key != $0.value }
        guard !renames.isEmpty else { return fields }
        var out: Fields = []
        for f in fields {
            let key = renames[f.key] ?? f.key
            if let i = out.firstIndex(where: { $0.key == key }) { out[i].value = f.value } else { out.append(JSONMember(key: key, value: f.value)) }
        }
        return out
    }

    /// The row for `fields`, or why it cannot be used.
    public func convert(_ rawFields: [JSONMember], at location: RowLocation) throws(DataError) -> DatasetRow {
        var fields = Self.rename(rawFields, columns)
        let keys = Set(fields.map { $0.key.lowercased() })
        let isMessages = Self.messageKeys.contains { keys.contains($0) }
        if autoColumnMapping {
            var mapping: [(from: String, to: String)] = Self.systemKeys.map { ($0, "system") }
            if isMessages {
                mapping += Self.messageKeys.map { ($0, "messages") }
            } else {
                mapping += Self.queryKeys.map { ($0, "query") } + Self.responseKeys.map { ($0, "response") }
            }
            fields = Self.rename(fields, mapping)
        }
        var reader = FieldReader(fields: fields, location: location)
        var row: DatasetRow
        if reader.has("chosen") && reader.has("rejected") && !reader.has("rejected_response") {
            row = try preferencePair(&reader, isMessages: isMessages)
        } else if isMessages {
            row = DatasetRow(conversation: try messagesConversation(&reader, key: "messages"))
        } else if reader.has("instruction") && reader.has("input") || reader.has("query") || reader.has("response") || reader.has("instruction") {
            row = DatasetRow(conversation: try responseConversation(&reader))
        } else {
            let seen = fields.map(\.key).joined(separator: ", ")
            throw .badRow(location: location, problem: .noUsableFields, key: nil,
                          detail: "no known column among [\(seen)]. Expected messages/conversations, instruction+output, "
                              + "query+response (or aliases). Hint: map yours with --columns '{\"yours\": \"query\"}'.")
        }
        if let rejected = try reader.optionalString("rejected_response") {
            if rejected == row.conversation.messages.last?.content {
                throw .badRow(location: location, problem: .sameAnswers, key: "rejected_response",
                              detail: "expected a rejected answer different from the chosen one, got the same text. "
                                  + "Hint: such a pair carries no preference; drop it")
            }
            row.rejectedResponse = rejected
        }
        if reader.has("rejected_messages") {
            row.rejectedMessages = try messagesConversation(&reader, key: "rejected_messages").messages
        }
        if let label = reader.value("label"), !label.isNull { row.label = try reader.bool(label, key: "label") }
        if let tools = reader.value("tools"), !tools.isNull {
            row.conversation.tools = try reader.tools(tools)
        }
        try validate(row, location: location)
        return row
    }

    func validate(_ row: DatasetRow, location: RowLocation) throws(DataError) {
        let messages = row.conversation.messages
        guard !messages.isEmpty else {
            throw .badRow(location: location, problem: .noUsableFields, key: "messages", detail: "no messages")
        }
        if !requiresAnswer, let last = messages.last, last.role != .assistant {
            guard !last.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw .badRow(location: location, problem: .invalidMessages, key: "messages[\(messages.count - 1)].content",
                              detail: "the last message, the prompt, is empty")
            }
            return
        }
        guard let last = messages.last, last.role == .assistant else {
            throw .badRow(location: location, problem: .emptyAnswer, key: "messages",
                          detail: "the conversation ends without an assistant answer")
        }
        if last.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && (last.toolCalls ?? []).isEmpty {
            throw .badRow(location: location, problem: .emptyAnswer, key: "messages[\(messages.count - 1)].content",
                          detail: "expected a non-empty final assistant answer, got an empty one. Hint: drop the row or fill in the answer.")
        }
    }

    // MARK: - Formats

    func messagesConversation(_ reader: inout FieldReader, key: String) throws(DataError) -> Conversation {
        var list = try reader.messageList(key)
        var system = try reader.optionalString("system")
        // ShareGPT pair form: [{"human": …, "assistant": …}] (no role/content keys).
        if let first = list.first, first.objectMembers.map({ m in !m.contains { ["role", "from", "content", "value"].contains($0.key) } }) ?? false {
            var messages: [Message] = []
            for (i, pair) in list.enumerated() {
                let q = pair["user"] ?? pair["human"], a = pair["assistant"] ?? pair["gpt"] ?? pair["bot"]
                messages.append(.user(try reader.string(q ?? .null, key: "\(key)[\(i)].human")))
                messages.append(.assistant(try reader.string(a ?? .null, key: "\(key)[\(i)].assistant")))
            }
            return Conversation(system: system, messages: messages)
        }
        var messages: [Message] = []
        for (i, item) in list.enumerated() {
            let path = "\(key)[\(i)]"
            guard item.objectMembers != nil else {
                throw reader.problem(.wrongType, key: path, "expected a message object, got \(item.typeDescription)")
            }
            guard let roleValue = item["role"] ?? item["from"] else {
                throw reader.problem(.invalidMessages, key: path, "message has no role/from")
            }
            let role = try reader.string(roleValue, key: "\(path).role")
            let contentValue = item["content"] ?? item["value"] ?? .null
            var message: Message
            switch role.replacingOccurrences(of: "-", with: "_").lowercased() {
            case "system" where i == 0:
                system = try reader.string(contentValue, key: "\(path).content")
                continue
            case "user", "human": message = .user(try reader.string(contentValue, key: "\(path).content"))
            case "assistant", "gpt", "bot":
                let content = contentValue.isNull && item["tool_calls"] != nil ? "" : try reader.string(contentValue, key: "\(path).content")
                message = .assistant(content)
                if let calls = item["tool_calls"]?.arrayValue {
                    message.toolCalls = try calls.enumerated().map { (j, c) throws(DataError) in try reader.toolCall(c, key: "\(path).tool_calls[\(j)]") }
                }
            case "function_call", "tool_call":
                message = Message(role: .assistant, content: "",
                                  toolCalls: [try reader.toolCall(contentValue, key: "\(path).content")])
            case "tool", "observation", "observations", "function_response", "tool_response", "ipython":
                message = .tool(try reader.string(contentValue, key: "\(path).content"))
            case "system":
                throw reader.problem(.invalidMessages, key: "\(path).role", Self.misplacedSystem(list, at: i))
            default:
                throw reader.problem(.invalidMessages, key: "\(path).role",
                                     "unknown role '\(role)' (expected system, user/human, assistant/gpt, tool/observation, function_call)")
            }
            if case let .bool(loss)? = item["loss"] { message.loss = loss }
            messages.append(message)
        }
        list.removeAll()
        return Conversation(system: system, messages: messages)
    }

    /// Why a system message after the first one cannot be used, with the row's shape (how many system messages,
    /// whether it has a user turn at all).
    static func misplacedSystem(_ list: [JSONValue], at index: Int) -> String {
        func role(_ item: JSONValue) -> String? {
            (item["role"] ?? item["from"])?.stringValue?.replacingOccurrences(of: "-", with: "_").lowercased()
        }
        let roles = list.map(role)
        let systems = roles.filter { $0 == "system" }.count
        let hasUser = roles.contains { $0 == "user" || $0 == "human" }
        var detail = "a system message at position \(index): only the first message may be the system prompt"
        detail += "; this row has \(systems) system message\(systems == 1 ? "" : "s") among \(list.count)"
        if !hasUser { detail += " and no user turn" }
        return detail + ". Hint: merge the system messages into the first one and add the user's turn."
    }

    func responseConversation(_ reader: inout FieldReader) throws(DataError) -> Conversation {
        var query: String?
        if reader.has("instruction") || reader.has("input") {
            let instruction = try reader.optionalString("instruction") ?? ""
            let input = try reader.optionalString("input") ?? ""
            query = (!instruction.isEmpty && !input.isEmpty) ? "\(instruction)\n\(input)" : (instruction.isEmpty ? input : instruction)
        }
        if let q = try reader.optionalString("query") { query = q }
        var response: String?
        if let r = reader.value("response") ?? reader.value("output"), !r.isNull {
            if let list = r.arrayValue {
                response = try reader.string(list.first ?? .null, key: "response[0]")
            } else {
                response = try reader.string(r, key: reader.has("response") ? "response" : "output")
            }
        }
        var messages: [Message] = []
        if let history = reader.value("history"), !history.isNull {
            var h = history
            if let s = history.stringValue { h = (try? JSONParser.parse(s, options: .python)) ?? .null }
            guard let pairs = h.arrayValue else { throw reader.problem(.wrongType, key: "history", "expected a list of [query, response] pairs, got \(history.typeDescription)") }
            for (i, pair) in pairs.enumerated() {
                guard let p = pair.arrayValue, p.count == 2 else {
                    throw reader.problem(.wrongType, key: "history[\(i)]", "expected a [query, response] pair")
                }
                messages.append(.user(try reader.string(p[0], key: "history[\(i)][0]")))
                messages.append(.assistant(try reader.string(p[1], key: "history[\(i)][1]")))
            }
        }
        if let query { messages.append(.user(query)) }
        if let response { messages.append(.assistant(response)) }
        if query == nil && response == nil {
            throw reader.problem(.noUsableFields, key: nil, "neither a query nor a response")
        }
        return Conversation(system: try reader.optionalString("system"), messages: messages)
    }

    /// `chosen`/`rejected` columns: single messages after `conversations` (LLaMA-Factory), whole message lists,
    /// answer strings after a prompt, or whole `\n\nHuman: … \n\nAssistant: …` transcripts (hh-rlhf).
    func preferencePair(_ reader: inout FieldReader, isMessages: Bool) throws(DataError) -> DatasetRow {
        let chosen = reader.value("chosen") ?? .null, rejected = reader.value("rejected") ?? .null
        func answer(_ v: JSONValue, key: String) throws(DataError) -> String {
            if v.objectMembers != nil { return try reader.string(v["content"] ?? v["value"] ?? .null, key: "\(key).value") }
            return try reader.string(v, key: key)
        }
        if let c = chosen.arrayValue, let r = rejected.arrayValue {
            let fields = [JSONMember(key: "messages", value: .array(c)), JSONMember(key: "rejected_messages", value: .array(r))]
            var tmp = FieldReader(fields: fields, location: reader.location)
            let conv = try messagesConversation(&tmp, key: "messages")
            let rej = try messagesConversation(&tmp, key: "rejected_messages")
            return DatasetRow(conversation: conv, rejectedMessages: rej.messages)
        }
        var conversation: Conversation
        if isMessages {
            conversation = try messagesConversation(&reader, key: "messages")
        } else if reader.has("query") || reader.has("instruction") {
            conversation = try responseConversation(&reader)
        } else if let c = chosen.stringValue, let r = rejected.stringValue {
            return try Self.transcriptPair(chosen: c, rejected: r, reader: reader)
        } else {
            throw reader.problem(.noUsableFields, key: "chosen", "chosen/rejected without a prompt")
        }
        conversation.messages.append(.assistant(try answer(chosen, key: "chosen")))
        return DatasetRow(conversation: conversation, rejectedResponse: try answer(rejected, key: "rejected"))
    }

    /// hh-rlhf: both transcripts share the prompt up to the last `\n\nAssistant:`; the rest are the answers.
    static func transcriptPair(chosen: String, rejected: String, reader: FieldReader) throws(DataError) -> DatasetRow {
        func turns(_ text: String) -> [Message] {
            var out: [Message] = []
            var rest = Substring(text)
            let markers = [("\n\nHuman:", Role.user), ("\n\nAssistant:", Role.assistant)]
            while let (range, role) = markers.compactMap({ m in rest.range(of: m.0).map { ($0, m.1) } }).min(by: { $0.0.lowerBound < $1.0.lowerBound }) {
                rest = rest[range.upperBound...]
                let next = markers.compactMap { rest.range(of: $0.0)?.lowerBound }.min() ?? rest.endIndex
                out.append(Message(role: role, content: rest[..<next].trimmingCharacters(in: .whitespaces)))
                rest = rest[next...]
            }
            return out
        }
        let c = turns(chosen), r = turns(rejected)
        for (key, t) in [("chosen", c), ("rejected", r)] where t.count < 2 || t.last?.role != .assistant {
            throw reader.problem(.invalidMessages, key: key, "expected a transcript `\\n\\nHuman: …\\n\\nAssistant: …` "
                + "ending with an Assistant turn, got \(t.count) turns ending with \(t.last.map { "\($0.role)" } ?? "none"). "
                + "Hint: each side is the whole conversation, its last turn the answer")
        }
        if let turn = zip(c.dropLast(), r.dropLast()).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset
            ?? (c.count != r.count ? min(c.count, r.count) - 1 : nil) {
            throw reader.problem(.invalidMessages, key: "rejected",
                                 "expected the chosen and rejected transcripts to share every turn before the last "
                                     + "Assistant one, got a difference at turn \(turn + 1) (\(c.count) vs \(r.count) turns). "
                                     + "Hint: a pair compares two answers to one prompt")
        }
        return DatasetRow(conversation: Conversation(messages: c), rejectedResponse: r.last?.content)
    }
}
