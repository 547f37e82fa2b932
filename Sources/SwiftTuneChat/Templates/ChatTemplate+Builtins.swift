import Foundation

/// The built-in templates, one definition each, with ms-swift's pieces and default systems.
extension ChatTemplate {
    /// ms-swift's `DEFAULT_SYSTEM`.
    public static let helpfulAssistantSystem = "You are a helpful assistant."

    /// Llama 2's default system (ms-swift `LLAMA_DEFAULT_SYSTEM`).
    public static let llama2DefaultSystem =
        "You are a helpful, respectful and honest assistant. Always answer as helpfully as possible, while being "
        + "safe. Your answers should not include any harmful, unethical, racist, sexist, toxic, dangerous, or illegal "
        + "content. Please ensure that your responses are socially unbiased and positive in nature.\n\n"
        + "If a question does not make any sense, or is not factually coherent, explain why instead of answering "
        + "something not correct. If you don't know the answer to a question, please don't share false information."

    /// ChatML without a default system; BOS added automatically when the tokenizer adds one.
    public static let chatml = ChatTemplate(
        name: "chatml", prefix: [],
        prompt: ["<|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n"],
        chatSep: ["<|im_end|>\n"], suffix: ["<|im_end|>\n"],
        systemPrefix: ["<|im_start|>system\n{{SYSTEM}}<|im_end|>\n"], autoAddBOS: true)

    private static func qwenFamily(_ name: String, defaultSystem: String?) -> ChatTemplate {
        var t = chatml
        t.name = name
        t.defaultSystem = defaultSystem
        t.autoAddBOS = false
        t.stopWords = ["<|endoftext|>"]
        return t
    }

    /// Qwen (1/2) ChatML with "You are a helpful assistant." as default system.
    public static let qwen = qwenFamily("qwen", defaultSystem: helpfulAssistantSystem)

    /// Qwen2.5 with its own default system.
    public static let qwen2_5 = qwenFamily(
        "qwen2_5", defaultSystem: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")

    /// Qwen3 hybrid thinking: no default system; non-thinking answers get `<think>\n\n</think>\n\n`.
    public static let qwen3: ChatTemplate = {
        var t = qwenFamily("qwen3", defaultSystem: nil)
        t.isThinking = true
        t.nonThinkingPrefix = "<think>\n\n</think>\n\n"
        return t
    }()

    /// Llama 3 / 3.1 (no default system).
    public static let llama3 = ChatTemplate(
        name: "llama3", prefix: ["<|begin_of_text|>"],
        prompt: [.text("<|start_header_id|>user<|end_header_id|>\n\n{{QUERY}}<|eot_id|>"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\n")],
        chatSep: ["<|eot_id|>"], suffix: ["<|eot_id|>"],
        systemPrefix: ["<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{{SYSTEM}}<|eot_id|>"])

    /// Llama 3.2: the system block always carries the knowledge cut-off and `date` ("26 Jul 2024" style).
    public static func llama3_2(date: String) -> ChatTemplate {
        var t = llama3
        t.name = "llama3_2"
        let header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "Cutting Knowledge Date: December 2023\nToday Date: \(date)\n\n{{SYSTEM}}<|eot_id|>"
        return ChatTemplate(name: "llama3_2", prefix: [.text(header)], prompt: t.prompt, chatSep: t.chatSep,
                            suffix: t.suffix)
    }

    /// Today's date as Llama 3.2's template writes it (`%d %b %Y`, local time, English month names).
    public static func llama3_2DateString(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "dd MMM yyyy"
        return formatter.string(from: date)
    }

    /// Llama 2 chat (`[INST]`, `<<SYS>>`), with Llama 2's default system.
    public static let llama = ChatTemplate(
        name: "llama", prefix: ["<s>[INST] "], prompt: ["{{QUERY}} [/INST]"], chatSep: ["</s><s>[INST] "],
        suffix: ["</s>"], systemPrefix: ["<s>[INST] <<SYS>>\n{{SYSTEM}}\n<</SYS>>\n\n"],
        defaultSystem: llama2DefaultSystem)

    /// Mistral-7B-Instruct v0.1/v0.2 style: `<s>[INST] q [/INST]a</s>[INST] …`; a system prompt goes in front of
    /// the last user message (as Mistral's own template does). ms-swift itself maps Mistral models to `llama`.
    public static let mistral = ChatTemplate(
        name: "mistral", prefix: ["<s>"], prompt: ["[INST] ", "{{SYSTEM}}\n\n", "{{QUERY}} [/INST]"],
        chatSep: ["</s>"], suffix: ["</s>"])

    /// ms-swift's `default`: `### Human:` / `### Assistant:` with "You are a helpful assistant.".
    public static let `default` = ChatTemplate(
        name: "default", prefix: [], prompt: ["### Human:\n{{QUERY}}\n\n### Assistant:\n"], chatSep: ["\n\n"],
        systemPrefix: ["{{SYSTEM}}\n\n"], defaultSystem: helpfulAssistantSystem, autoAddBOS: true)

    /// Plain text for `pt` (ms-swift `dummy`): the text as is, BOS automatically, EOS at the end.
    public static let plain = ChatTemplate(name: "plain", prefix: [], prompt: ["{{QUERY}}"], chatSep: nil,
                                           autoAddBOS: true)
}
