import Foundation
import SwiftTuneChat
import SwiftTuneEngine

/// ms-swift's `swift sample` with `--sampler_type sample`: several sampled answers per dataset row, each written as a
/// complete `messages` row (the prompt's turns, then the sampled assistant answer) — data for rejection sampling,
/// self-distillation or a later `sft`. Sequence j of row i samples with seed `seed + i · count + j`, so a run is
/// reproducible and no two sequences share a seed.
///
/// ```swift
/// let records = try Sampling.run(rows, inference: inference, count: 5)
/// try Sampling.write(records, to: URL(fileURLWithPath: "sample_output/run.jsonl"))
/// ```
public enum Sampling {
    /// One sampled answer: the row it answers (0-based), which of its sequences, and the whole conversation.
    public struct Record: Sendable, Equatable, Codable {
        /// The prompt's messages (system first when there is one) and the sampled answer as the last message.
        public var messages: [Message]
        /// The dataset's own answer to the row, when it had one (the reference to compare against).
        public var labels: String?
        /// 0-based index of the row in the input, and of this sequence among the row's.
        public var row: Int
        public var sequence: Int
        /// Whether the answer ended on a stop token (false: cut at `max_new_tokens` or the context).
        public var finished: Bool

        enum CodingKeys: String, CodingKey { case messages, labels, row, sequence, finished }
    }

    /// `count` answers to every row, batched by the engine; `onFinished` receives the number of sequences done.
    public static func run(_ rows: [DatasetRow], inference: Inference, count: Int,
                           onFinished: (Int) -> Void = { _ in }) throws -> [Record] {
        guard count >= 1 else {
            throw GenerationError.invalidPrompt(request: 0, reason: "num_return_sequences \(count): expected at least 1")
        }
        let prompts = rows.map(BatchInference.split)
        let conversations = prompts.flatMap { Array(repeating: $0.conversation, count: count) }
        let results = try inference.respond(to: conversations, onFinished: onFinished)
        return results.enumerated().map { index, result in
            let prompt = prompts[index / count]
            var messages = prompt.conversation.messages
            if let system = prompt.conversation.system { messages.insert(.system(system), at: 0) }
            messages.append(Message(role: .assistant, content: result.text))
            return Record(messages: messages, labels: prompt.labels, row: index / count, sequence: index % count,
                          finished: result.finishReason == .stop)
        }
    }

    /// Writes the records as JSON lines (keys sorted) to `url`, atomically, creating its folder.
    public static func write(_ records: [Record], to url: URL) throws {
        let data = try BatchInference.jsonLines(records)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }
}
