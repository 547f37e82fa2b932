import SwiftTuneFamilies
import SwiftTuneTokenizers

/// The templates by name, and the automatic choice from a model (what `--template` overrides).
public enum TemplateRegistry {
    /// Names accepted by `--template`.
    public static let names = ["chatml", "qwen", "qwen2_5", "qwen3", "llama3", "llama3_2", "llama", "mistral",
                               "default", "plain", "dummy"]

    /// The template called `name`. `llama3_2Date` fixes the date that Llama 3.2's system block carries
    /// (default: today, as ms-swift).
    public static func template(named name: String, llama3_2Date: String? = nil) throws(ChatError) -> ChatTemplate {
        switch name.replacingOccurrences(of: "-", with: "_") {
        case "chatml": return .chatml
        case "qwen", "qwen2": return .qwen
        case "qwen2_5": return .qwen2_5
        case "qwen3": return .qwen3
        case "llama3", "llama3_1": return .llama3
        case "llama3_2": return .llama3_2(date: llama3_2Date ?? ChatTemplate.llama3_2DateString())
        case "llama", "llama2": return .llama
        case "mistral": return .mistral
        case "default": return .default
        case "plain", "dummy", "pt": return .plain
        default: throw .unknownTemplate(name: name, known: names)
        }
    }

    /// What the automatic choice looks at.
    public struct ModelHints: Sendable {
        /// `config.json`'s `model_type` (`qwen2`, `qwen3`, `llama`, `mistral`, …).
        public var modelType: String?
        /// The model id or folder name (`Qwen/Qwen2.5-0.5B-Instruct`).
        public var modelName: String?
        /// The tokenizer's Jinja `chat_template`.
        public var chatTemplate: String?
        /// Whether the vocabulary has `<|eot_id|>` (Llama 3).
        public var hasEotID: Bool

        public init(modelType: String? = nil, modelName: String? = nil, chatTemplate: String? = nil,
                    hasEotID: Bool = false) {
            self.modelType = modelType
            self.modelName = modelName
            self.chatTemplate = chatTemplate
            self.hasEotID = hasEotID
        }

        /// Hints from a tokenizer (its chat template and vocabulary) plus the config's model type and a name.
        public init(modelType: String?, modelName: String?, tokenizer: any TextTokenizer) {
            self.init(modelType: modelType, modelName: modelName, chatTemplate: tokenizer.chatTemplate,
                      hasEotID: tokenizer.tokenID("<|eot_id|>") != nil)
        }
    }

    /// The template name for a model: `override` (`--template`) if given; else the choice of its family's entry
    /// (`ModelFamily.chatTemplate`: qwen2 → qwen2_5, qwen3 → qwen3, llama → llama3 with `<|eot_id|>` else by chat
    /// template or llama, mistral → mistral unless the chat template is ChatML), or of `relatedModelTypes`; for any
    /// other `model_type`, by the model name, else by the chat template text, else `default`.
    public static func templateName(for hints: ModelHints, override: String? = nil) -> String {
        if let override, !override.isEmpty { return override }
        let fromChatTemplate = hints.chatTemplate.flatMap(nameFromChatTemplate)
        let modelType = hints.modelType?.lowercased()
        if let choice = modelType.flatMap({ ModelFamily(rawValue: $0)?.chatTemplate ?? relatedModelTypes[$0] }) {
            return choice.resolve(hasEotToken: hints.hasEotID, detected: fromChatTemplate)
        }
        if let name = hints.modelName.flatMap(nameFromModelName) { return name }
        return fromChatTemplate ?? "default"
    }

    /// The choice for `model_type`s no registered family runs but whose template ms-swift knows: the MoE variants
    /// take their dense family's, Qwen 1 its own.
    static let relatedModelTypes: [String: ChatTemplateChoice] = [
        "qwen2_moe": ModelFamily.qwen2.chatTemplate, "qwen3_moe": ModelFamily.qwen3.chatTemplate,
        "mixtral": ModelFamily.mistral.chatTemplate, "qwen": ChatTemplateChoice(name: "qwen"),
    ]

    /// A template name from a model id such as `Qwen/Qwen2.5-7B-Instruct` or `meta-llama/Llama-3.2-1B`.
    public static func nameFromModelName(_ name: String) -> String? {
        let n = name.lowercased()
        if n.contains("qwen3") { return "qwen3" }
        if n.contains("qwen2.5") || n.contains("qwen2_5") || n.contains("qwen2") { return "qwen2_5" }
        if n.contains("qwen") { return "qwen" }
        if n.contains("llama-3.2") || n.contains("llama3.2") || n.contains("llama-3_2") { return "llama3_2" }
        if n.contains("llama-3") || n.contains("llama3") { return "llama3" }
        if n.contains("llama-2") || n.contains("llama2") { return "llama" }
        if n.contains("mistral") { return "mistral" }
        if n.contains("smollm") { return "chatml" }
        return nil
    }

    /// A template name from the Jinja `chat_template` text.
    public static func nameFromChatTemplate(_ text: String) -> String? {
        if text.contains("<|im_start|>") {
            if text.contains("</think>") { return "qwen3" }
            if text.contains("You are Qwen, created by Alibaba Cloud") { return "qwen2_5" }
            if text.contains("You are a helpful assistant") { return "qwen" }
            return "chatml"
        }
        if text.contains("<|start_header_id|>") {
            return text.contains("Cutting Knowledge Date") ? "llama3_2" : "llama3"
        }
        if text.contains("<<SYS>>") { return "llama" }
        if text.contains("[INST]") { return "mistral" }
        return nil
    }
}
