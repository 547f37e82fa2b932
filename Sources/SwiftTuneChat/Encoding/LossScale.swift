/// Which tokens are trained (ms-swift `--loss_scale` base strategies).
public enum LossScale: String, Sendable, Codable, CaseIterable {
    /// Every assistant answer and the template's end token after it (`sft` default).
    case `default`
    /// Only the answer(s) after the last user turn.
    case lastRound = "last_round"
    /// Every token (`pt` default).
    case all

    /// Parses `--loss_scale`; `default+…`/`last_round+…` plug-in suffixes are not supported.
    public init(parsing text: String) throws(ChatError) {
        let value = text.replacingOccurrences(of: "-", with: "_")
        guard let scale = LossScale(rawValue: value) else { throw .unknownLossScale(text) }
        self = scale
    }

    /// ms-swift `LossScale._inner_call`: whether a context of `kind` in the given round is trained.
    func isTrained(kind: TemplateContext.Kind, messageLoss: Bool?, isLastRound: Bool) -> Bool {
        if let messageLoss { return messageLoss }
        let isAssistant = kind == .response || kind == .suffix
        switch self {
        case .all: return true
        case .default: return isAssistant
        case .lastRound: return isAssistant && isLastRound
        }
    }
}
