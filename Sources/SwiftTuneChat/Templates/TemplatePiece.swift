/// One piece of a template part (ms-swift's `Prompt` element): literal text with placeholders, fixed token ids,
/// or a reference to the tokenizer's BOS/EOS token (ms-swift's `[['bos_token_id']]`, `[['eos_token_id']]`).
///
/// Text may contain `{{SYSTEM}}`, `{{QUERY}}`, `{{ROUND0}}` and `{{ROUND1}}` (0- and 1-based round numbers).
public enum TemplatePiece: Sendable, Equatable {
    case text(String)
    case tokenIDs([Int32])
    case bosToken
    case eosToken

    var containsSystem: Bool {
        if case let .text(s) = self { return s.contains("{{SYSTEM}}") }
        return false
    }
}

extension TemplatePiece: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
}
