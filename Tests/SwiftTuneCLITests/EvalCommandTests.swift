import Foundation
import Testing

/// `swift-tune eval` end to end on the tiny model and the hand-written sets.
@Suite struct EvalCommandTests {
    static let sets = CLI.root.appendingPathComponent("Tests/Fixtures/eval").path

    @Test func evaluatesPrintsTheTableAndWritesTheFiles() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try CLI.run([
            "eval", "--model", CLI.tinyModel, "--system", "Be brief.", "--device", "cpu", "--max_model_len", "128",
            "--eval_dataset", "gsm8k", "\(Self.sets)/custom/tiny_mcq.jsonl", "--dataset_dir", Self.sets,
            "--dataset_args", #"{"gsm8k": {"prompt_template": "{question}"}, "tiny_mcq": {"prompt_template": "{question}\n{choices}"}}"#,
            "--max_new_tokens", "4", "--eval_output_dir", folder.path,
        ])
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n").map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(lines.first == ["dataset", "subset", "metric", "score", "n"], "\(result.output)")
        #expect(lines.contains { $0.count == 5 && $0[0] == "gsm8k" && $0[1] == "main" && $0[2] == "acc" && $0[4] == "3" })
        #expect(lines.contains { $0.count == 5 && $0[0] == "tiny_mcq" && $0[2] == "acc_loglikelihood" && $0[4] == "3" })
        #expect(result.error.contains("gsm8k/test.jsonl:3: answer has no final number"), "\(result.error)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(runs.count == 1)
        let run = folder.appendingPathComponent(runs[0])
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("report.json").path))
        let predictions = try String(contentsOf: run.appendingPathComponent("predictions/tiny_mcq.jsonl"), encoding: .utf8)
        #expect(predictions.split(separator: "\n").count == 6)
        #expect(predictions.contains(#""extracted":"#) && predictions.contains(#""loglikelihoods":{"A":"#))
    }

    @Test func badInputIsAClearError() throws {
        let unknown = try CLI.run(["eval", "--model", CLI.tinyModel, "--eval_dataset", "gsm9k", "--device", "cpu"])
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("Known benchmarks: arc, ceval, general_mcq, general_qa, gsm8k, mmlu"), "\(unknown.error)")
        let backend = try CLI.run(["eval", "--model", CLI.tinyModel, "--eval_dataset", "gsm8k", "--eval_backend", "OpenCompass"])
        #expect(backend.status != 0 && backend.error.contains("--eval_backend OpenCompass: expected Native"), "\(backend.error)")
        let strict = try CLI.run(["eval", "--model", CLI.tinyModel, "--eval_dataset", "gsm8k", "--dataset_dir", Self.sets,
                                  "--strict", "true", "--device", "cpu"])
        #expect(strict.status != 0 && strict.error.contains("gsm8k/test.jsonl:3"), "\(strict.error)")
        let noModel = try CLI.run(["eval", "--eval_dataset", "gsm8k"])
        #expect(noModel.status != 0 && noModel.error.contains("--eval_url"), "\(noModel.error)")
    }
}
