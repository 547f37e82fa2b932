import Foundation
import SwiftTuneJSON
import Testing
@testable import SwiftTuneEval

/// Scoring, the report table and the files, with a model that answers from a table.
struct EvaluatorTests {
    /// Right on the first GSM8K row (boxed), wrong on the second, right on the third (last number); MCQ: the
    /// letter format, a bare letter, then nothing usable; QA: the reference itself.
    static let model = CannedModel { prompt in
        if prompt.contains("Tom has 3 apples") { return "3 + 4 = 7, so \\boxed{7}" }
        if prompt.contains("1,200 pens") { return "I think 500" }
        if prompt.contains("2.5 km") { return "He runs 5 km in total" }
        if prompt.contains("order of the group") { return "ANSWER: B" }
        if prompt.contains("every field a ring") { return "B" }
        if prompt.contains("closest to the Sun") { return "No idea" }
        if prompt.contains("capital of France") { return "The capital of France is Paris." }
        return "Rome."
    }

    @Test func scoresWritesTheReportAndEveryPrediction() async throws {
        let options = EvalOptions(datasets: ["gsm8k", "mmlu", "general_qa=" + evalFixtures.appendingPathComponent("custom/qa.jsonl").path],
                                  datasetDir: evalFixtures)
        let datasets = try Evaluator.loadDatasets(options)
        let report = try await Evaluator.run(datasets, model: Self.model, options: options)
        func score(_ dataset: String, _ subset: String, _ metric: String) -> EvalScore? {
            report.scores.first { $0.dataset == dataset && $0.subset == subset && $0.metric == metric }
        }
        #expect(score("gsm8k", "main", "acc")?.score == 2.0 / 3 && score("gsm8k", "main", "acc")?.count == 3)
        #expect(score("mmlu", "abstract_algebra", "acc")?.score == 0.5)
        #expect(score("mmlu", "astronomy", "acc")?.score == 0)
        #expect(score("mmlu", "OVERALL", "acc")?.score == 1.0 / 3 && score("mmlu", "OVERALL", "acc")?.count == 3)
        #expect(score("mmlu", "abstract_algebra", "acc_loglikelihood") == nil, "the canned model cannot score options")
        let rouge = try #require(score("qa", "qa", "rouge-l-f"))
        #expect(rouge.count == 3)
        #expect(abs(rouge.score - (1 + 1 + 0) / 3) < 1e-12, "third answer 'Rome.' shares no word with the Chinese reference")
        #expect(report.skipped.count == 1)

        let gsm8k = try #require(report.predictions["gsm8k"])
        #expect(gsm8k.map(\.extracted) == ["7", "500", "5"])
        #expect(gsm8k.map(\.correct) == [true, false, true])
        #expect(gsm8k[0].prompt.hasSuffix("Please reason step by step, and put your final answer within \\boxed{}."))
        #expect(report.predictions["mmlu"]?.map(\.extracted) == ["B", "B", nil])

        let table = report.table()
        #expect(table.split(separator: "\n").first?.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            == ["dataset", "subset", "metric", "score", "n"])
        #expect(table.contains("gsm8k   | main             | acc       | 0.6667 | 3"), "\(table)")

        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try report.write(to: folder)
        let written = try JSONDecoder().decode(EvalReport.self, from: Data(contentsOf: folder.appendingPathComponent("report.json")))
        #expect(written.scores == report.scores)
        let lines = try String(contentsOf: folder.appendingPathComponent("predictions/gsm8k.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count == 3)
        let first = try JSONParser.parse(String(lines[0]))
        #expect(first["extracted"]?.stringValue == "7" && first["gold"]?.stringValue == "7" && first["correct"]?.boolValue == true)
        #expect(first["answer"]?.stringValue == "3 + 4 = 7, so \\boxed{7}")
        #expect(first["location"]?.stringValue?.hasSuffix("gsm8k/test.jsonl:1") == true)
    }

    @Test func fewShotExamplesComeFromTrain() async throws {
        var options = EvalOptions(datasets: ["gsm8k"], datasetDir: evalFixtures, limit: 1)
        options.datasetArguments = ["gsm8k": EvalDatasetArguments(fewShotNum: 2)]
        let report = try await Evaluator.run(try Evaluator.loadDatasets(options), model: Self.model, options: options)
        let prompt = try #require(report.predictions["gsm8k"]?.first?.prompt)
        #expect(prompt.hasPrefix("Here are some examples of how to solve similar problems:\n\nAnn has 2 cats"))
        #expect(prompt.contains("5 * 3 = <<5*3=15>>15 pages.\nThe final answer is \\boxed{15}.\n\nTom has 3 apples"))
    }

    @Test func multipleChoiceFewShotComesFromTheSubjectsDevFile() async throws {
        let options = EvalOptions(datasets: ["ceval"], datasetDir: evalFixtures, limit: 1, fewShot: 1)
        let report = try await Evaluator.run(try Evaluator.loadDatasets(options), model: Self.model, options: options)
        let prompt = try #require(report.predictions["ceval"]?.first?.prompt)
        #expect(prompt.hasPrefix("Here are some examples of how to solve similar problems:\n\nAnswer the following multiple choice"))
        #expect(prompt.contains("IP 是哪一层的协议？\n\nA) 应用层\nB) 传输层\nC) 网络层\nD) 物理层\nANSWER: C\n\nAnswer the following"))
        #expect(prompt.hasSuffix("TCP 是哪一层的协议？\n\nA) 应用层\nB) 传输层\nC) 网络层\nD) 物理层"))
    }

    @Test func logLikelihoodNeedsAModelThatScores() async throws {
        let options = EvalOptions(datasets: ["arc"], datasetDir: evalFixtures, choiceScoring: .loglikelihood)
        await #expect(throws: EvalError.self) {
            try await Evaluator.run(try Evaluator.loadDatasets(options), model: Self.model, options: options)
        }
    }
}
