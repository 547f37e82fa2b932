import SwiftTuneChat

/// What each row of a preference dataset must carry.
public enum PreferenceRowKind: String, Sendable {
    /// A chosen and a different, non-empty rejected answer (DPO, CPO, SimPO, ORPO, rm).
    case pair
    /// An answer and a true/false `label` (KTO).
    case label

    /// Why `row` cannot be used as this kind, or nil: the problem, the key, and a detail saying what was expected,
    /// what the row has, and a hint.
    public func problem(_ row: DatasetRow) -> (RowProblem, key: String, detail: String)? {
        switch self {
        case .label:
            guard row.label == nil else { return nil }
            let has = row.rejectedConversation != nil ? "a rejected answer (a DPO pair)" : "no label"
            return (.noLabel, "label", "expected \"label\": true (desirable) or false (undesirable) for --rlhf_type kto, "
                + "got \(has). Hint: add the label, or train pairs with --rlhf_type dpo")
        case .pair:
            guard let rejected = row.rejectedConversation else {
                let has = row.label != nil ? "only a KTO label" : "only the chosen answer"
                return (.noRejected, "rejected_response", "expected a rejected answer, got \(has). Hint: add "
                    + "rejected_response (or rejected_messages, or chosen/rejected columns); rows with a label train "
                    + "with --rlhf_type kto")
            }
            let rejectedAnswer = rejected.messages.last
            guard rejectedAnswer?.role == .assistant else {
                return (.invalidMessages, "rejected_messages", "expected the rejected conversation to end with an "
                    + "assistant answer, got a last message from \(rejectedAnswer.map { "\($0.role)" } ?? "nobody"). "
                    + "Hint: end rejected_messages with the rejected assistant answer")
            }
            if rejectedAnswer?.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true {
                return (.emptyAnswer, "rejected_response", "expected a non-empty rejected answer, got an empty one. "
                    + "Hint: drop the row or fill in the rejected answer")
            }
            if Array(rejected.messages.dropLast()) != Array(row.conversation.messages.dropLast())
                || rejected.system != row.conversation.system {
                return (.invalidMessages, "rejected_messages", "expected the chosen and rejected conversations to share "
                    + "everything but the final answer, got different prompts. Hint: a pair compares two answers to "
                    + "one prompt")
            }
            if rejected == row.conversation {
                return (.sameAnswers, "rejected_response", "expected a rejected answer different from the chosen one, "
                    + "got the same text. Hint: such a pair carries no preference; drop it")
            }
            return nil
        }
    }
}

/// `--max_length` and `--max_completion_length` on preference rows, in TRL's order: the final answer first cut to
/// `max_completion_length` tokens, then the prompt loses its start until the row fits (`truncation_strategy left`),
/// so the prompt/answer split stays where the template put it.
public enum PreferenceTruncation {
    /// Where the final answer starts: after the last position whose label is ignored.
    public static func answerStart(_ sample: EncodedSample) -> Int {
        (sample.labels.lastIndex(of: EncodedSample.ignoreIndex) ?? -1) + 1
    }

    /// The sample with its final answer cut to its first `limit` tokens.
    public static func cutAnswer(_ sample: EncodedSample, to limit: Int) -> EncodedSample {
        let end = min(sample.count, answerStart(sample) + limit)
        return EncodedSample(inputIDs: Array(sample.inputIDs[..<end]), labels: Array(sample.labels[..<end]))
    }

    /// The sample cut to `maxLength` tokens from the prompt's start; an answer longer than `maxLength` alone loses
    /// its end too.
    public static func cutPrompt(_ sample: EncodedSample, to maxLength: Int) -> EncodedSample {
        guard sample.count > maxLength else { return sample }
        let drop = min(sample.count - maxLength, answerStart(sample))
        let end = min(sample.count, drop + maxLength)
        var labels = Array(sample.labels[drop..<end])
        if !labels.isEmpty { labels[0] = EncodedSample.ignoreIndex }
        return EncodedSample(inputIDs: Array(sample.inputIDs[drop..<end]), labels: labels)
    }

    /// A preference row whose chosen or rejected final answer lost every token to `--max_length` truncation (a
    /// preference loss needs both answers), as the row's problem; nil when both kept answer tokens.
    static func lostAnswer(_ row: EncodedRow, at location: RowLocation, options: DatasetOptions) -> DataError? {
        let sides = [("chosen", row.chosen)] + (row.rejected.map { [("rejected", $0)] } ?? [])
        guard let (side, sample) = sides.first(where: { answerStart($0.1) >= $0.1.count }) else { return nil }
        let strategy = options.truncationStrategy.rawValue
        return .badRow(location: location, problem: .tooLong, key: side == "chosen" ? "messages" : "rejected_response",
                       detail: "expected at least one token of the \(side) answer after truncation to max_length "
                           + "\(options.maxLength ?? sample.count) (truncation_strategy \(strategy)), got none. Hint: raise "
                           + "--max_length, or use --truncation_strategy left (cuts the prompt's start) or delete "
                           + "(drops the row)")
    }
}
