import Foundation
import SwiftTuneJSON

/// An Ollama `Modelfile` (https://github.com/ollama/ollama/blob/main/docs/modelfile.md) for an exported GGUF:
/// `FROM` the file next to it, a `TEMPLATE` in Go-template syntax for the model's chat-template family,
/// `PARAMETER stop` for that family's turn markers, and the sampling parameters of `generation_config.json`.
public struct OllamaModelfile: Sendable, Equatable {
    /// The chat-template families Ollama templates are written for.
    public enum Family: String, Sendable, CaseIterable {
        /// `<|im_start|>role\n…<|im_end|>` (Qwen, SmolLM2, ms-swift's chatml/qwen templates).
        case chatML = "chatml"
        /// `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>` (Llama 3).
        case llama3
        /// `[INST] … [/INST]` (Mistral, Llama 2).
        case mistral

        /// The family of a Jinja chat template, by its turn markers; nil when none is recognised.
        public static func detect(jinja: String) -> Family? {
            if jinja.contains("<|im_start|>") { return .chatML }
            if jinja.contains("<|start_header_id|>") { return .llama3 }
            if jinja.contains("[INST]") { return .mistral }
            return nil
        }

        /// The family of an ms-swift template name (`--template`), nil when none fits.
        public static func detect(templateName: String) -> Family? {
            let name = templateName.lowercased()
            if name.hasPrefix("qwen") || name == "chatml" || name.hasPrefix("smollm") { return .chatML }
            if name.hasPrefix("llama3") { return .llama3 }
            if name == "mistral" || name == "llama" || name == "llama2" { return .mistral }
            return nil
        }

        /// The Go template: an optional system turn, every message, then the assistant's open turn.
        var template: String {
            switch self {
            case .chatML:
                """
                {{- if .System }}<|im_start|>system
                {{ .System }}<|im_end|>
                {{ end }}{{- range .Messages }}<|im_start|>{{ .Role }}
                {{ .Content }}<|im_end|>
                {{ end }}<|im_start|>assistant

                """
            case .llama3:
                """
                {{- if .System }}<|start_header_id|>system<|end_header_id|>

                {{ .System }}<|eot_id|>{{ end }}{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>

                {{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>


                """
            case .mistral:
                """
                {{- range $i, $m := .Messages }}{{- if eq .Role "user" }}[INST] {{ if and $.System (eq $i 0) }}{{ $.System }}

                {{ end }}{{ .Content }}[/INST]{{- else if eq .Role "assistant" }} {{ .Content }}</s>{{- end }}{{- end }}
                """
            }
        }

        /// Strings that end a turn.
        var stopWords: [String] {
            switch self {
            case .chatML: ["<|im_start|>", "<|im_end|>"]
            case .llama3: ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
            case .mistral: ["[INST]", "[/INST]", "</s>"]
            }
        }
    }

    public var ggufFileName: String
    public var family: Family
    /// `PARAMETER name value` lines after the stops, in order.
    public var parameters: [(name: String, value: String)]
    public var system: String?

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.ggufFileName == rhs.ggufFileName && lhs.family == rhs.family && lhs.system == rhs.system
            && lhs.parameters.map(\.name) == rhs.parameters.map(\.name) && lhs.parameters.map(\.value) == rhs.parameters.map(\.value)
    }

    /// A Modelfile for `ggufFileName`, with the sampling parameters of a `generation_config.json` (temperature,
    /// top_p, top_k, repetition_penalty → repeat_penalty) when given.
    public init(ggufFileName: String, family: Family, generationConfig: JSONValue? = nil, system: String? = nil) {
        self.ggufFileName = ggufFileName
        self.family = family
        self.system = system
        var parameters: [(String, String)] = []
        let mapping = [("temperature", "temperature"), ("top_p", "top_p"), ("top_k", "top_k"),
                       ("repetition_penalty", "repeat_penalty")]
        for (key, name) in mapping {
            if let value = generationConfig?[key]?.numberValue { parameters.append((name, value.text)) }
        }
        self.parameters = parameters.map { (name: $0.0, value: $0.1) }
    }

    /// The file's text.
    public var text: String {
        var lines = ["FROM ./\(ggufFileName)", "", "TEMPLATE \"\"\"\(family.template)\"\"\"", ""]
        if let system, !system.isEmpty { lines += ["SYSTEM \"\"\"\(system)\"\"\"", ""] }
        lines += family.stopWords.map { "PARAMETER stop \"\($0)\"" }
        lines += parameters.map { "PARAMETER \($0.name) \($0.value)" }
        return lines.joined(separator: "\n") + "\n"
    }
}
