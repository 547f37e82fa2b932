import ArgumentParser
import Foundation
import SwiftTuneChat
import SwiftTuneData
import SwiftTuneEngine
import SwiftTuneGeneration
import SwiftTuneTraining

/// `swift-tune infer`: chat with a model (interactive, streamed) or answer a dataset, with ms-swift's flags.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Chat with a model, or answer a dataset, with ms-swift's flags.",
        discussion: """
            Interactive by default: type at the <<< prompt; the commands are multi-line (end the input with #), \
            single-line, reset-system, clear, and quit or exit. A closed stdin ends the session.
            Example: swift-tune infer --adapters output/v0-20261129-101500/checkpoint-40
            Batch: swift-tune infer --adapters CKPT --val_dataset data.jsonl --metric rouge --max_batch_size 8
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var infer: InferOptions

    func run() throws {
        let backend = try model.backend()
        let inference = try Inference.load(try infer.inferenceOptions(model: model), backend: backend) { note($0) }
        if inference.engine.model.score != nil {
            guard infer.isBatch else {
                throw ValidationError("this checkpoint is a reward model (rlhf --rlhf_type rm): it scores rows instead of "
                    + "chatting; pass --val_dataset with rows that end with the answer (pairs score both answers)")
            }
            try scoreDataset(inference)
        } else if infer.isBatch {
            try answerDataset(inference)
        } else {
            try chat(inference)
        }
    }

    /// The interactive session: the prompt on stdout, answers streamed to stdout, notes on stderr.
    func chat(_ inference: Inference) throws {
        var session = InteractiveChat(keepsHistory: inference.template.supportsMultiRound)
        session.instructions.forEach(note)
        let stream = infer.stream ?? true
        let resultURL = infer.resultPath.map { URL(fileURLWithPath: $0) }
        // From a pipe nothing echoes the input: print it after the prompt, so each answer starts on its own line.
        let echoesInput = isatty(STDIN_FILENO) == 0
        while true {
            print(session.prompt, terminator: "")
            fflush(nil)  // the prompt has no newline: flush it past stdout's line buffering
            guard let line = readLine(strippingNewline: true) else {
                print()  // stdin closed (Ctrl-D, end of a pipe): leave the prompt's line and exit cleanly
                return
            }
            if echoesInput { print(line) }
            switch session.submit(line) {
            case .exit:
                return
            case let .handled(message):
                if let message { note(message) }
            case let .generate(conversation):
                let result: GenerationResult
                do {
                    result = try inference.respond(to: conversation) { delta in
                        guard stream else { return }
                        print(delta, terminator: "")
                        fflush(nil)
                    }
                } catch let error as GenerationError {
                    note("Error: \(error)")
                    if case .promptTooLong = error { note("Input `clear` to start a new conversation.") }
                    session.discardQuestion()
                    continue
                }
                print(stream ? "" : result.text)
                session.record(response: result.text)
                if let resultURL {
                    var messages = conversation.messages
                    if let system = conversation.system { messages.insert(.system(system), at: 0) }
                    try BatchInference.append([InferenceRecord(response: result.text, labels: nil, messages: messages,
                                                               logprobs: result.logprobs.map { .init(content: $0) })],
                                              to: resultURL)
                }
            }
        }
    }

    /// A reward model's batch: every row's reward (and its rejected answer's), the rows to `--result_path`, and the
    /// pair accuracy.
    func scoreDataset(_ inference: Inference) throws {
        let rows = try datasetRows(inference)
        let bar = ProgressBar(label: "Reward", total: rows.count)
        let records = try RewardScoring.run(rows, inference: inference) { bar.update($0) }
        bar.finish()
        let url = infer.resultURL(modelFolder: inference.modelFolder)
        try RewardScoring.write(records, to: url)
        for record in records.prefix(5) {
            print("reward: \(record.reward)" + (record.rejectedReward.map { ", rejected: \($0)" } ?? ""))
        }
        print("result_path: \(url.path)")
        if let (accuracy, pairs) = RewardScoring.accuracy(records) {
            print(String(format: "accuracy: %.4f (answer outscores the rejected one in %d pairs)", accuracy, pairs))
        }
    }

    /// The rows of `--val_dataset`, or the run's validation rows with `--load_data_args true`.
    func datasetRows(_ inference: Inference) throws -> [DatasetRow] {
        if infer.loadDataArgs == true {
            guard let run = inference.runArguments else {
                throw ValidationError("--load_data_args true: the adapter folder has no args.json to find its run by")
            }
            let rows = try BatchInference.validationRows(of: run)
            note("validation rows: \(rows.count) from \(run.validationFile.path)")
            return rows
        }
        let rows = try BatchInference.rows(try infer.valDataset.map { try DatasetSpec.parse($0) },
                                           options: infer.datasetOptions(run: inference.runArguments))
        note("rows: \(rows.count) from \(infer.valDataset.joined(separator: " "))")
        return rows
    }

    /// Batch inference: every row answered, a progress bar on stderr, the rows to `--result_path`, the score.
    func answerDataset(_ inference: Inference) throws {
        let rows = try datasetRows(inference)
        let bar = ProgressBar(label: "Infer", total: rows.count)
        let records = try BatchInference.run(rows, inference: inference) { bar.update($0) }
        bar.finish()
        let url = infer.resultURL(modelFolder: inference.modelFolder)
        try BatchInference.write(records, to: url)
        print("result_path: \(url.path)")
        if let name = infer.metric, let metric = InferenceMetric(rawValue: name) {
            let pairs = records.map { (response: $0.response, labels: $0.labels) }
            guard let score = metric.score(pairs) else {
                print("\(name): n/a (no row has labels)")
                return
            }
            let what = metric == .acc ? "exact match" : "ROUGE-L F1 on whitespace tokens"
            print(String(format: "%@: %.4f (%@, %d rows with labels)", name, score, what, pairs.filter { $0.labels != nil }.count))
        }
    }

    /// An informational line on stderr (stdout carries the conversation and results).
    func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
