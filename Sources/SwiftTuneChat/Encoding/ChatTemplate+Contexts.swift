import Foundation
import SwiftTuneJSON
import SwiftTuneTokenizers

/// Rendering a conversation into template contexts, following ms-swift's `Template._swift_encode`
/// (plus `_swift_prepare_inputs`, the thinking-prefix handling and the loss scale).
extension ChatTemplate {
    /// The pieces of `conversation` in order, each marked trained or not by `options.lossScale`.
    ///
    /// - `tokenizer` resolves BOS/EOS pieces and `autoAddBOS` (ms-swift encodes `"a"` with and without special
    ///   tokens and takes what comes before and after it); without one, `autoAddBOS` is skipped and a BOS/EOS
    ///   piece is an error.
    public func contexts(for conversation: Conversation, mode: RenderMode, options: TemplateOptions = TemplateOptions(),
                         tokenizer: (any TextTokenizer)? = nil) throws(ChatError) -> [TemplateContext] {
        let meta = options.useChatTemplate ? self : plainText()
        let isTraining = mode == .training
        let conv = conversation.normalized()
        var turns = try Self.prepareTurns(conv.messages, meta: meta)

        let enableThinking = options.enableThinking ?? (meta.isThinking && meta.nonThinkingPrefix.isEmpty)
        var system: String?
        if options.useChatTemplate {
            if !meta.nonThinkingPrefix.isEmpty {
                let start = (!isTraining || options.lossScale == .lastRound) ? Self.lastUserRound(turns) : -1
                for i in turns.indices where i >= start && turns[i].role == .assistant {
                    let text = turns[i].text
                    if !text.hasPrefix("<think>") && !text.hasPrefix(meta.nonThinkingPrefix) {
                        turns[i].text = meta.nonThinkingPrefix + text
                    }
                }
            }
            let preserveThinking = (meta.isThinking || enableThinking)
                ? (isTraining && options.lossScale != .lastRound) : true
            if !preserveThinking {
                let last = Self.lastUserRound(turns)
                for i in turns.indices where i < last && turns[i].role == .assistant {
                    let answer = turns[i].text.components(separatedBy: "</think>").last ?? ""
                    turns[i].text = meta.historyThinkingPrefix + answer.trimmingCharacters(in: .whitespacesAndNewlines)
                }
            }
            if (conv.system ?? options.system) != nil && !meta.supportsSystem {
                throw .systemNotSupported(template: meta.name)
            }
            system = conv.system ?? options.system ?? meta.defaultSystem
            if let tools = conv.tools, !tools.isEmpty {
                system = try Self.hermesToolSystem(tools, system: system)
            }
        }

        // _get_std_messages: a leading answer gets an empty query; an open query gets an empty answer slot.
        if turns.first?.role == .assistant { turns.insert(Turn(role: .user, text: ""), at: 0) }
        if turns.isEmpty { throw .emptyConversation }
        var hasOpenAnswer = false
        if turns.count % 2 == 1 {
            turns.append(Turn(role: .assistant, text: ""))
            hasOpenAnswer = true
        }
        if turns.count / 2 > 1 && !meta.supportsMultiRound {
            turns = Array(turns.suffix(2))  // ms-swift keeps only the last round, with a warning
        }

        var out: [TemplateContext] = []
        var sepTokens: [Int32] = []
        if meta.autoAddBOS, let tokenizer {
            let all = tokenizer.encode("a", addSpecialTokens: true)
            let single = tokenizer.encode("a", addSpecialTokens: false)
            if single.count == 1, let idx = all.firstIndex(of: single[0]) {
                let bos = Array(all[..<idx])
                sepTokens = Array(all[(idx + 1)...])
                if !bos.isEmpty { out.append(TemplateContext(content: .tokens(bos), kind: .other)) }
            }
        }
        let hasSystem = !(system ?? "").isEmpty
        let prefix = (meta.isPostSystem || !hasSystem) ? meta.prefix : (meta.systemPrefix ?? meta.prefix)
        try Self.append(prefix, to: &out, kind: .other, system: system, tokenizer: tokenizer, template: meta)

        let stopWords = meta.allStopWords(eosToken: tokenizer?.eosTokenID.flatMap { tokenizer?.token($0) })
        let responsePrefix = options.responsePrefix
            ?? (!options.useChatTemplate ? "" : (enableThinking ? meta.thinkingPrefix : meta.nonThinkingPrefix))
        let nRound = turns.count / 2
        var responseLoss: [Bool?] = []
        for i in 0..<nRound {
            let query = turns[2 * i], response = turns[2 * i + 1]
            guard query.role == .user || query.role == .tool else {
                throw .invalidRoleOrder(messageIndex: 2 * i, expected: "user or tool", got: query.role)
            }
            guard response.role == .assistant else {
                throw .invalidRoleOrder(messageIndex: 2 * i + 1, expected: "assistant", got: response.role)
            }
            var prompt: [TemplatePiece]
            var queryText = query.text
            if query.role == .tool {
                prompt = query.toolPieces ?? [.text("{{QUERY}}")]
                queryText = ""
            } else if let systemPrompt = meta.systemPrompt, i == nRound - 1, hasSystem {
                prompt = systemPrompt
            } else {
                prompt = meta.prompt
            }
            let isLast = i == nRound - 1
            let answer: String? = (isLast && hasOpenAnswer) ? nil : response.text
            var extra: [TemplatePiece] = []
            var extraKind = TemplateContext.Kind.other
            if !isLast {
                prompt.append(.text("{{RESPONSE}}"))
                if turns[2 * (i + 1)].role != .tool { extra = meta.chatSep ?? [] }
            } else if let answer {
                prompt.append(.text("{{RESPONSE}}"))
                let endsWithStop = stopWords.contains { answer.hasSuffix($0) }
                if isTraining && sepTokens.isEmpty && !endsWithStop {
                    extra = meta.suffix
                    extraKind = .suffix
                }
            } else if !responsePrefix.isEmpty {
                prompt.append(.text(responsePrefix))
            }
            if answer != nil { responseLoss.append(response.loss) }
            try Self.append(prompt, to: &out, kind: .other, system: system, query: queryText, response: answer,
                            round: i, tokenizer: tokenizer, template: meta)
            try Self.append(extra, to: &out, kind: extraKind, tokenizer: tokenizer, template: meta, raw: true)
        }
        if !sepTokens.isEmpty { out.append(TemplateContext(content: .tokens(sepTokens), kind: .suffix)) }

        let ignoreEmptyThink = options.ignoreEmptyThink && meta.isThinking && !meta.nonThinkingPrefix.isEmpty
        return Self.applyLossScale(out, lossScale: options.lossScale, lastUserRound: Self.lastUserRound(turns),
                                   responseLoss: responseLoss, ignoreEmptyThink: ignoreEmptyThink)
    }

    /// The conversation as text (what `apply_chat_template(tokenize=False)` returns). Token pieces are written
    /// as their token strings.
    public func render(_ conversation: Conversation, mode: RenderMode, options: TemplateOptions = TemplateOptions(),
                       tokenizer: (any TextTokenizer)? = nil) throws(ChatError) -> String {
        let parts = try contexts(for: conversation, mode: mode, options: options, tokenizer: tokenizer)
        var text = ""
        for part in parts {
            switch part.content {
            case let .text(s): text += s
            case let .tokens(ids):
                if let tokenizer { text += ids.map { tokenizer.token($0) ?? tokenizer.decode([$0], skipSpecialTokens: false) }.joined() }
            }
        }
        return text
    }

    // MARK: - Steps

    struct Turn {
        var role: Role
        var text: String
        /// A tool turn's prompt (chat_sep + prompt with the tool responses as query), as ms-swift's hermes agent.
        var toolPieces: [TemplatePiece]?
        var loss: Bool?
    }

    /// ms-swift `_swift_prepare_inputs`: tool calls formatted into the answer, tool results after an answer
    /// folded into one tool turn, consecutive user (or assistant) messages merged.
    static func prepareTurns(_ messages: [Message], meta: ChatTemplate) throws(ChatError) -> [Turn] {
        var turns: [Turn] = []
        for (index, message) in messages.enumerated() {
            switch message.role {
            case .system:
                throw .invalidRoleOrder(messageIndex: index, expected: "user, assistant or tool (system only first)",
                                        got: .system)
            case .assistant:
                var text = message.content
                if let calls = message.toolCalls, !calls.isEmpty {
                    text += calls.map(hermesToolCall).joined(separator: "\n")
                }
                turns.append(Turn(role: .assistant, text: text, loss: message.loss))
            case .user:
                turns.append(Turn(role: .user, text: message.content, loss: message.loss))
            case .tool:
                turns.append(Turn(role: .tool, text: message.content, loss: message.loss))
            }
        }
        var i = 1
        while i < turns.count {
            let pre = turns[i - 1], cur = turns[i]
            if pre.role == .assistant && cur.role == .tool {
                var end = i
                while end + 1 < turns.count && turns[end + 1].role == .tool { end += 1 }
                let responses = turns[i...end].map { "<tool_response>\n\($0.text)\n</tool_response>" }
                    .joined(separator: "\n")
                var pieces = meta.chatSep ?? []
                for piece in meta.prompt {
                    if case let .text(s) = piece { pieces.append(.text(s.replacingOccurrences(of: "{{QUERY}}", with: responses))) } else { pieces.append(piece) }
                }
                turns.replaceSubrange(i...end, with: [Turn(role: .tool, text: responses, toolPieces: pieces)])
                i += 1
            } else if pre.role == cur.role && (cur.role == .assistant || cur.role == .user) {
                turns[i - 1].text += cur.text
                turns[i - 1].loss = pre.loss ?? cur.loss
                turns.remove(at: i)
            } else {
                i += 1
            }
        }
        // A tool result with no answer before it is asked as a user turn.
        for j in turns.indices where turns[j].role == .tool && turns[j].toolPieces == nil {
            turns[j].role = .user
            turns[j].text = "<tool_response>\n\(turns[j].text)\n</tool_response>"
        }
        return turns
    }

    /// Index of the last user or tool turn (ms-swift `get_last_user_round`), -1 if none.
    static func lastUserRound(_ turns: [Turn]) -> Int {
        turns.lastIndex { $0.role == .user || $0.role == .tool } ?? -1
    }

    /// ms-swift `_concat_context_list`: placeholders replaced, empty text dropped, `{{RESPONSE}}` kept as its own
    /// response context (even when empty).
    static func append(_ pieces: [TemplatePiece], to out: inout [TemplateContext], kind: TemplateContext.Kind,
                       system: String? = nil, query: String? = nil, response: String? = nil, round: Int? = nil,
                       tokenizer: (any TextTokenizer)?, template: ChatTemplate, raw: Bool = false) throws(ChatError) {
        for piece in pieces {
            switch piece {
            case var .text(s):
                if !raw {
                    if s == "{{RESPONSE}}", let response {
                        out.append(TemplateContext(content: .text(response), kind: .response))
                        continue
                    }
                    if let system { s = s.replacingOccurrences(of: "{{SYSTEM}}", with: system) }
                    if let query { s = s.replacingOccurrences(of: "{{QUERY}}", with: query) }
                    if let round {
                        s = s.replacingOccurrences(of: "{{ROUND0}}", with: String(round))
                            .replacingOccurrences(of: "{{ROUND1}}", with: String(round + 1))
                    }
                    // A post-system piece with no system to put in it is left out (ms-swift would keep it raw).
                    if s.contains("{{SYSTEM}}") { continue }
                }
                if s.isEmpty { continue }
                out.append(TemplateContext(content: .text(s), kind: kind))
            case let .tokenIDs(ids):
                if !ids.isEmpty { out.append(TemplateContext(content: .tokens(ids), kind: kind)) }
            case .bosToken:
                guard let id = tokenizer?.bosTokenID else { throw .missingSpecialToken(template: template.name, token: "BOS") }
                out.append(TemplateContext(content: .tokens([id]), kind: kind))
            case .eosToken:
                guard let id = tokenizer?.eosTokenID else { throw .missingSpecialToken(template: template.name, token: "EOS") }
                out.append(TemplateContext(content: .tokens([id]), kind: kind))
            }
        }
    }

    /// ms-swift `LossScale.__call__`; with `ignoreEmptyThink` an answer's leading empty think block is not trained
    /// (ms-swift appends `+ignore_empty_think` for hybrid thinking templates).
    static func applyLossScale(_ contexts: [TemplateContext], lossScale: LossScale, lastUserRound: Int,
                               responseLoss: [Bool?], ignoreEmptyThink: Bool) -> [TemplateContext] {
        var out: [TemplateContext] = []
        var round = 0
        for var context in contexts {
            let isLastRound = 2 * round >= lastUserRound
            var loss: Bool?
            if context.kind == .response {
                loss = round < responseLoss.count ? responseLoss[round] : nil
                round += 1
            }
            context.trained = lossScale.isTrained(kind: context.kind, messageLoss: loss, isLastRound: isLastRound)
            if context.trained, ignoreEmptyThink, case let .text(s) = context.content,
               let range = s.range(of: #"^(<think>\s*</think>\s*|</think>\s*)"#, options: .regularExpression) {
                out.append(TemplateContext(content: .text(String(s[range])), kind: context.kind, trained: false))
                let rest = String(s[range.upperBound...])
                if !rest.isEmpty { out.append(TemplateContext(content: .text(rest), kind: context.kind, trained: true)) }
                continue
            }
            out.append(context)
        }
        return out
    }

    /// A hermes tool call: `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>`.
    static func hermesToolCall(_ call: ToolCall) -> String {
        let object: JSONValue = ["name": .string(call.name), "arguments": call.arguments]
        return "<tool_call>\n\(object.pythonJSONString())\n</tool_call>"
    }

    /// The system prompt with tool definitions, as ms-swift's hermes agent template writes it.
    static func hermesToolSystem(_ tools: [JSONValue], system: String?) throws(ChatError) -> String {
        var descriptions: [String] = []
        for (i, tool) in tools.enumerated() {
            guard let members = tool.objectMembers else {
                throw .invalidTool(index: i, reason: "expected a JSON object, got \(tool.typeDescription)")
            }
            let wrapped: JSONValue = (tool["type"] == nil && tool["function"] == nil)
                ? ["type": "function", "function": .object(members)]
                : tool
            descriptions.append(wrapped.pythonJSONString())
        }
        return "\(system ?? "")\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
            + descriptions.joined(separator: "\n")
            + "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
            + "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
            + "<args-json-object>}\n</tool_call>"
    }
}
