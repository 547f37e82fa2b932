import SwiftTuneChat
import SwiftTuneData
import SwiftTuneJSON
import SwiftTuneTokenizers

/// The `chat_template` target: the input is one dataset row (JSON, read as Python reads it) that the row
/// preprocessor turns into a conversation, rendered by every built-in template with the fixture tokenizer, for
/// training (ids and labels, the rejected answer too) and for generation. Invariants: ids and labels have the same length.
enum ChatTemplateFuzzing {
    static let templates: [ChatTemplate] = TemplateRegistry.names.compactMap { try? TemplateRegistry.template(named: $0) }

    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        guard let tokenizer = TokenizerFuzzing.fixture else {
            return .unexpected("the fixture tokenizer \(FuzzFixtures.qwen2.path) did not load")
        }
        guard templates.count == TemplateRegistry.names.count else { return .unexpected("a built-in template did not load") }
        return FuzzErrors.run {
            let value = try JSONParser.parse(bytes, options: .python)
            guard let members = value.objectMembers else { return .refused("not an object: \(value.summary)") }
            let row = try RowPreprocessor().convert(members, at: RowLocation(file: "/fuzz/row.jsonl", line: 1))
            // A GGUF's `tokenizer.chat_template` is user text too: what it detects must be a registered name.
            if let name = TemplateRegistry.nameFromChatTemplate(row.conversation.messages.first?.content ?? ""),
               !TemplateRegistry.names.contains(name) {
                return .unexpected("template detection named \(name), which is not registered")
            }
            var refusals: [String] = []
            for template in templates {
                let encoder = TemplateEncoder(template: template, tokenizer: tokenizer)
                do {
                    let encoded = try encoder.encode(row).chosen
                    guard encoded.inputIDs.count == encoded.labels.count else {
                        return .unexpected("\(template.name): \(encoded.inputIDs.count) ids, \(encoded.labels.count) labels")
                    }
                    _ = try encoder.encode(row.conversation, mode: .generation)
                } catch {
                    refusals.append("\(template.name): \(error)")
                }
            }
            return refusals.isEmpty ? .accepted : .refused(refusals.joined(separator: "; "))
        }
    }

    /// Rows in the formats ms-swift reads: messages (with tools and a rejected answer), sharegpt, alpaca, query.
    static let seeds: [(name: String, bytes: [UInt8])] = [
        ("messages", #"{"messages":[{"role":"system","content":"S {{QUERY}}"},{"role":"user","content":"<|im_start|>hi{{SYSTEM}}"},{"role":"assistant","content":"<think>\n</think>\n\nhello"},{"role":"user","content":"again"},{"role":"assistant","content":"ok"}],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"rejected_response":"no"}"#),
        ("tool-turns", #"{"messages":[{"role":"user","content":"call"},{"role":"assistant","content":"<tool_call>{}</tool_call>"},{"role":"tool","content":"{\"r\":1}"},{"role":"assistant","content":"done"}]}"#),
        ("sharegpt", #"{"system":"sys","conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"a"}]}"#),
        ("alpaca", #"{"instruction":"Add","input":"1 and 2","output":"3"}"#),
        ("query", #"{"query":"q","response":"r","history":[["q0","r0"]],"label":true}"#),
    ].map { ($0.0, Array($0.1.utf8)) }
}
