/// How a family picks its chat template (ms-swift's template names) when `--template` is not given: a default,
/// which the model's own tokenizer may refine.
public struct ChatTemplateChoice: Sendable, Equatable {
    /// The template when the tokenizer says nothing more.
    public var name: String
    /// The template for a vocabulary with Llama 3's `<|eot_id|>`, checked first.
    public var withEotToken: String?
    /// Which templates recognised in the tokenizer's Jinja `chat_template` replace `name`: nil for any, else only
    /// these (empty: the family's template always wins).
    public var fromChatTemplate: Set<String>?

    public init(name: String, withEotToken: String? = nil, fromChatTemplate: Set<String>? = []) {
        self.name = name
        self.withEotToken = withEotToken
        self.fromChatTemplate = fromChatTemplate
    }

    /// The template name for a tokenizer that has (or lacks) `<|eot_id|>` and whose Jinja template reads as
    /// `detected` (nil when unrecognised).
    public func resolve(hasEotToken: Bool, detected: String?) -> String {
        if hasEotToken, let withEotToken { return withEotToken }
        if let detected, fromChatTemplate?.contains(detected) ?? true { return detected }
        return name
    }
}
