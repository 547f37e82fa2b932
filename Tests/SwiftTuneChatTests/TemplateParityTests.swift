import Foundation
import SwiftTuneChat
import SwiftTuneJSON
import SwiftTuneTestSupport
import Testing

/// Parity with HF `apply_chat_template` on the real chat_template strings of SmolLM2, Qwen2.5, Llama 3 and
/// Llama 3.2 (goldens from scripts/golden/make_chat_template_goldens.py).
let chatFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/chat")

struct GoldenCase {
    let model: String
    let id: String
    let conversation: Conversation
    let generation: Bool
    let hfText: String
}

func loadGoldens() throws -> (cases: [GoldenCase], templates: [String: String]) {
    let data = try Data(contentsOf: chatFixtures.appendingPathComponent("chat_template_goldens.json"))
    let root = try JSONParser.parse(data)
    var templates: [String: String] = [:]
    for member in root["templates"]?.objectMembers ?? [] {
        templates[member.key] = member.value["chat_template"]?.stringValue
    }
    var cases: [GoldenCase] = []
    for c in root["cases"]?.arrayValue ?? [] {
        var messages: [Message] = []
        for m in c["messages"]?.arrayValue ?? [] {
            let role = Role(rawValue: m["role"]?.stringValue ?? "") ?? .user
            var message = Message(role: role, content: m["content"]?.stringValue ?? "")
            if let calls = m["tool_calls"]?.arrayValue {
                message.toolCalls = calls.map {
                    ToolCall(name: $0["function"]?["name"]?.stringValue ?? "", arguments: $0["function"]?["arguments"] ?? .null)
                }
            }
            messages.append(message)
        }
        let generation = c["add_generation_prompt"] == .bool(true)
        cases.append(GoldenCase(model: c["model"]?.stringValue ?? "", id: c["id"]?.stringValue ?? "",
                                conversation: Conversation(messages: messages, tools: c["tools"]?.arrayValue),
                                generation: generation, hfText: c["hf_text"]?.stringValue ?? ""))
    }
    return (cases, templates)
}

/// The template ms-swift would pick for each golden model.
func template(forGoldenModel model: String, chatTemplates: [String: String]) throws -> ChatTemplate {
    let hints: TemplateRegistry.ModelHints
    switch model {
    case "smollm2": hints = .init(modelType: "llama", modelName: "HuggingFaceTB/SmolLM2-135M-Instruct",
                                  chatTemplate: chatTemplates[model], hasEotID: false)
    case "qwen2_5": hints = .init(modelType: "qwen2", chatTemplate: chatTemplates[model])
    default: hints = .init(modelType: "llama", modelName: "meta-llama/Meta-Llama-3-8B-Instruct",
                           chatTemplate: chatTemplates[model], hasEotID: true)
    }
    var name = TemplateRegistry.templateName(for: hints)
    if model == "llama3_2" {  // a Llama 3.2 checkpoint's chat template picks llama3_2 (ms-swift: by model id)
        name = TemplateRegistry.nameFromChatTemplate(chatTemplates[model] ?? "") ?? name
    }
    return try TemplateRegistry.template(named: name, llama3_2Date: "26 Jul 2024")
}

let smolLMDefaultSystem = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

@Suite struct TemplateParityTests {
    @Test func goldensCoverEveryModelAndShape() throws {
        let (cases, templates) = try loadGoldens()
        #expect(Set(cases.map(\.model)) == ["smollm2", "qwen2_5", "llama3", "llama3_2"])
        #expect(cases.count >= 24)
        #expect(templates.count == 4)
    }

    @Test func autoSelectionFromRealChatTemplates() throws {
        let (_, templates) = try loadGoldens()
        #expect(try template(forGoldenModel: "smollm2", chatTemplates: templates).name == "chatml")
        #expect(try template(forGoldenModel: "qwen2_5", chatTemplates: templates).name == "qwen2_5")
        #expect(try template(forGoldenModel: "llama3", chatTemplates: templates).name == "llama3")
        #expect(try template(forGoldenModel: "llama3_2", chatTemplates: templates).name == "llama3_2")
        #expect(TemplateRegistry.nameFromChatTemplate(templates["qwen2_5"] ?? "") == "qwen2_5")
    }

    @Test func renderedTextMatchesHF() throws {
        let (cases, templates) = try loadGoldens()
        let tokenizer = TestTokenizer()
        var checked = 0
        for golden in cases {
            let tmpl = try template(forGoldenModel: golden.model, chatTemplates: templates)
            let mode: RenderMode = golden.generation ? .generation : .training
            let ours = try tmpl.render(golden.conversation, mode: mode, tokenizer: tokenizer)
            switch (golden.model, golden.id) {
            case ("smollm2", let id) where id.hasSuffix("nosys"):
                // HF's SmolLM2 template injects its own default system; ms-swift's chatml has none.
                let withSystem = try tmpl.render(golden.conversation, mode: mode,
                                                 options: TemplateOptions(system: smolLMDefaultSystem), tokenizer: tokenizer)
                #expect(withSystem == golden.hfText, "\(golden.model)/\(golden.id) with --system")
                let block = "<|im_start|>system\n\(smolLMDefaultSystem)<|im_end|>\n"
                #expect(ours == String(golden.hfText.dropFirst(block.count)), "\(golden.model)/\(golden.id)")
            case ("llama3", "untrimmed"):
                // HF trims every message; ms-swift keeps the text as given.
                #expect(ours != golden.hfText)
                var trimmed = golden.conversation
                for i in trimmed.messages.indices {
                    trimmed.messages[i].content = trimmed.messages[i].content.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                #expect(try tmpl.render(trimmed, mode: mode, tokenizer: tokenizer) == golden.hfText)
            default:
                #expect(ours == golden.hfText, "\(golden.model)/\(golden.id):\nours: \(ours.debugDescription)\nhf:   \(golden.hfText.debugDescription)")
            }
            checked += 1
        }
        #expect(checked == cases.count)
    }
}
