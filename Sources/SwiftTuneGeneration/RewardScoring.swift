import Foundation
import SwiftTuneChat
import SwiftTuneEngine
import SwiftTuneModels

/// One line of `infer --result_path` for a reward model (`rlhf --rlhf_type rm`): the reward of the row's answer and,
/// for a preference pair, of its rejected answer.
public struct RewardRecord: Sendable, Equatable, Codable {
    /// The value head's reward of the whole conversation (prompt and final answer).
    public var reward: Float
    /// The rejected answer's reward, for a pair.
    public var rejectedReward: Float?
    /// The scored conversation, a system message first when there is one.
    public var messages: [Message]

    enum CodingKeys: String, CodingKey {
        case reward, messages
        case rejectedReward = "rejected_reward"
    }
}

/// `infer` on a reward-model checkpoint (a SEQ_CLS adapter with its value head): each row's conversation, encoded
/// as `rlhf` encoded it for training, is scored at its last token instead of answered.
public enum RewardScoring {
    /// The rewards of `rows` (answer, and rejected answer when the row is a pair); `onFinished` receives the rows done.
    public static func run(_ rows: [DatasetRow], inference: Inference,
                           onFinished: (Int) -> Void = { _ in }) throws -> [RewardRecord] {
        let model = inference.engine.model
        guard model.score != nil else {
            throw GenerationError.invalidSetting(flag: "adapters", value: "a language model",
                                                 expected: "a reward model's checkpoint (rlhf --rlhf_type rm) to score rows")
        }
        let encoder = TemplateEncoder(template: inference.template, tokenizer: inference.tokenizer,
                                      options: inference.templateOptions)
        var records: [RewardRecord] = []
        for (index, row) in rows.enumerated() {
            guard row.conversation.messages.last?.role == .assistant else {
                throw GenerationError.invalidPrompt(
                    request: index, reason: "a reward model scores a conversation that ends with the assistant's answer; "
                        + "this row ends with a \(row.conversation.messages.last.map { "\($0.role)" } ?? "nothing") turn")
            }
            let encoded = try encoder.encode(row)
            let sequences = [encoded.chosen.inputIDs] + (encoded.rejected.map { [$0.inputIDs] } ?? [])
            let rewards = try model.rewards(TokenBatch(sequences: sequences))
            var messages = row.conversation.messages
            if let system = row.conversation.system { messages.insert(.system(system), at: 0) }
            records.append(RewardRecord(reward: rewards[0], rejectedReward: rewards.count > 1 ? rewards[1] : nil,
                                        messages: messages))
            onFinished(index + 1)
        }
        return records
    }

    /// The share of pairs whose answer outscored its rejected answer (TRL's `accuracy`), nil without pairs.
    public static func accuracy(_ records: [RewardRecord]) -> (accuracy: Double, pairs: Int)? {
        let pairs = records.compactMap { record in record.rejectedReward.map { record.reward > $0 } }
        guard !pairs.isEmpty else { return nil }
        return (Double(pairs.filter { $0 }.count) / Double(pairs.count), pairs.count)
    }

    /// Writes the records as JSON lines (keys sorted) to `url`, creating its folder.
    public static func write(_ records: [RewardRecord], to url: URL) throws {
        let data = try BatchInference.jsonLines(records)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }
}
