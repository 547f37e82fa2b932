import Foundation
import SwiftTuneChat
import SwiftTuneEngine
import SwiftTuneData
import SwiftTuneRunFiles

/// `infer --val_dataset` / `--load_data_args`: every row answered, batched by the engine.
public enum BatchInference {
    /// A dataset row as a prompt and its label: the last message, when it is the assistant's, is the label.
    public static func split(_ row: DatasetRow) -> (conversation: Conversation, labels: String?) {
        var conversation = row.conversation.normalized()
        guard conversation.messages.last?.role == .assistant, let last = conversation.messages.popLast() else {
            return (conversation, nil)
        }
        return (conversation, last.content)
    }

    /// Reads the rows of `--val_dataset` files (any format the data layer reads, `#N` sampling), all of them used
    /// for inference (split ratio 1, no shuffle, as ms-swift loads a validation set). Rows need no answer: one
    /// that ends with the user's turn is a prompt without a label.
    public static func rows(_ specs: [DatasetSpec], options: DatasetOptions = DatasetOptions()) throws -> [DatasetRow] {
        var options = options
        options.requiresAnswer = false
        var report = DatasetLoadReport()
        return try DatasetPipeline.loadRows(specs, splitRatio: 1, shuffle: false, options: options, report: &report)
            .validation ?? []
    }

    /// Reads a run's `val_dataset.jsonl` (`--load_data_args true`): the held-out rows `sft` wrote.
    public static func validationRows(of run: RunArguments) throws -> [DatasetRow] {
        let url = run.validationFile
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw GenerationError.badRunFile(
                path: url.path, reason: "the run has no validation split",
                hint: "train with --split_dataset_ratio or --val_dataset, or pass --val_dataset here")
        }
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").enumerated().map { index, line in
            do { return try decoder.decode(DatasetRow.self, from: Data(line.utf8)) } catch {
                throw GenerationError.badRunFile(path: "\(url.path):\(index + 1)", reason: "not a dataset row: \(error)",
                                                 hint: "the file is written by swift-tune sft")
            }
        }
    }

    /// Answers every row; `onFinished` receives the number of rows done so far.
    public static func run(_ rows: [DatasetRow], inference: Inference,
                           onFinished: (Int) -> Void = { _ in }) throws -> [InferenceRecord] {
        let prompts = rows.map(split)
        let results = try inference.respond(to: prompts.map(\.conversation), onFinished: onFinished)
        return zip(prompts, results).map { prompt, result in
            var messages = prompt.conversation.messages
            if let system = prompt.conversation.system { messages.insert(.system(system), at: 0) }
            return InferenceRecord(response: result.text, labels: prompt.labels, messages: messages,
                                   logprobs: result.logprobs.map { InferenceRecord.Logprobs(content: $0) })
        }
    }

    /// Writes the records as JSON lines (keys sorted), replacing `url` (atomically when it is a regular file or
    /// new; a device such as `/dev/stdout` is written in place, never replaced), creating its folder.
    public static func write(_ records: [InferenceRecord], to url: URL) throws {
        let data = try jsonLines(records)
        if isSpecialFile(url) {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            return
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    /// Appends the records to `url` as JSON lines, creating the file (and its folder) if needed: the interactive
    /// session's log, one line per answer.
    public static func append(_ records: [InferenceRecord], to url: URL) throws {
        let manager = FileManager.default
        if !manager.fileExists(atPath: url.path) {
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard manager.createFile(atPath: url.path, contents: nil) else {
                throw GenerationError.badRunFile(path: url.path, reason: "cannot be created", hint: "check --result_path")
            }
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        if !isSpecialFile(url) { try handle.seekToEnd() }
        try handle.write(contentsOf: try jsonLines(records))
    }

    /// Records as JSON lines, keys sorted (batch results, samples, rewards).
    static func jsonLines(_ records: [some Encodable]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for record in records {
            data.append(try encoder.encode(record))
            data.append(0x0A)
        }
        return data
    }

    /// Whether `url` exists and is not a regular file (a device, a pipe).
    static func isSpecialFile(_ url: URL) -> Bool {
        guard let type = try? FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType else {
            return false
        }
        return type != .typeRegular && type != .typeDirectory
    }
}
