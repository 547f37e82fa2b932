import Foundation
import Testing
@testable import SwiftTuneEval

/// Reading the benchmark layouts and custom sets, and the errors for bad ones.
struct EvalDatasetTests {
    func load(_ entry: String, limit: Int? = nil, strict: Bool = false) throws -> EvalDataset {
        try EvalDatasetLoader.load(entry, datasetDir: evalFixtures, limit: limit, strict: strict)
    }

    @Test func gsm8kSkipsTheRowWithoutAFinalAnswerAndKeepsTrainForFewShot() throws {
        let dataset = try load("gsm8k")
        #expect(dataset.benchmark == .gsm8k)
        #expect(dataset.samples.map(\.gold) == ["7", "600", "5"])
        #expect(dataset.samples.map(\.subset) == ["main", "main", "main"])
        #expect(dataset.fewShotPool.map(\.gold) == ["3", "15"])
        #expect(dataset.fewShotPool.first?.solution == "2 + 1 = <<2+1=3>>3 cats.")
        #expect(dataset.skipped.count == 1)
        #expect(dataset.skipped.first?.hasPrefix(evalFixtures.path + "/gsm8k/test.jsonl:3: answer has no final number") == true,
                "\(dataset.skipped)")
        #expect(throws: EvalError.self) { try load("gsm8k", strict: true) }
    }

    @Test func mmluReadsLetterColumnsAndIndexedChoicesPerSubject() throws {
        let dataset = try load("mmlu")
        #expect(dataset.subsets == ["abstract_algebra", "astronomy"])
        #expect(dataset.samples.map(\.gold) == ["B", "A", "B"])
        #expect(dataset.samples[0].choices == ["2", "4", "8", "1"])
        #expect(dataset.samples[2].choices == ["Venus", "Mercury", "Mars", "Earth"])
        #expect(try load("mmlu", limit: 1).samples.count == 2, "the limit is per subset")
    }

    @Test func arcMapsNumericLabels() throws {
        let dataset = try load("arc")
        #expect(dataset.samples.map(\.gold) == ["B", "A"])
        #expect(dataset.samples.map(\.choices.count) == [3, 4])
    }

    @Test func cevalUsesTheFileNameAsSubjectAndDevAsPool() throws {
        let dataset = try load("ceval")
        #expect(dataset.subsets == ["computer_network"])
        #expect(dataset.samples.map(\.gold) == ["B", "C"])
        #expect(dataset.fewShotPool.count == 1)
    }

    @Test func customFilesAreToldByTheirRows() throws {
        let qa = try load(evalFixtures.appendingPathComponent("custom/qa.jsonl").path)
        #expect(qa.benchmark == .generalQA)
        #expect(qa.name == "qa")
        #expect(qa.samples[0].system == "Be brief.")
        #expect(qa.samples[1].history.map(\.content) == ["What is the capital of France?", "Paris."])
        let mcq = try load("general_mcq=" + evalFixtures.appendingPathComponent("custom/example_val.csv").path)
        #expect(mcq.benchmark == .generalMCQ)
        #expect(mcq.subsets == ["example"])
        #expect(mcq.samples.count == 2)
        #expect(mcq.skipped.count == 1 && mcq.skipped[0].contains("example_val.csv:4: answer 'E' is not one of A, B, C, D"),
                "\(mcq.skipped)")
    }

    @Test func malformedRowsAreSkippedWithTheirLine() throws {
        let dataset = try load(evalFixtures.appendingPathComponent("custom/bad_qa.jsonl").path)
        #expect(dataset.samples.count == 1)
        #expect(dataset.skipped.count == 2)
        #expect(dataset.skipped[0].contains("bad_qa.jsonl:2"), "\(dataset.skipped)")
        #expect(dataset.skipped[1].contains("bad_qa.jsonl:3: missing field 'response' or 'answer'"), "\(dataset.skipped)")
    }

    @Test func unknownBenchmarkListsTheKnownOnes() {
        #expect {
            try load("gsm9k")
        } throws: { error in
            let text = "\(error)"
            return text.contains("gsm9k") && text.contains("Known benchmarks: arc, ceval, general_mcq, general_qa, gsm8k, mmlu")
        }
    }

    @Test func benchmarkWithoutDataSaysWhereItLooked() {
        #expect {
            try EvalDatasetLoader.load("mmlu", datasetDir: URL(fileURLWithPath: "/nonexistent"))
        } throws: { error in
            "\(error)".contains("/nonexistent/mmlu") && "\(error)".contains("--dataset_dir")
        }
    }

    @Test func datasetArgumentsAreChecked() throws {
        let parsed = try EvalDatasetArguments.parse(#"{"gsm8k": {"local_path": "x", "few_shot_num": 2, "prompt_template": "Q: {question}"}}"#)
        #expect(parsed["gsm8k"] == EvalDatasetArguments(localPath: "x", fewShotNum: 2, promptTemplate: "Q: {question}"))
        #expect { try EvalDatasetArguments.parse(#"{"gsm8k": {"shots": 2}}"#) } throws: { "\($0)".contains("gsm8k.shots") }
        #expect { try EvalDatasetArguments.parse("[1]") } throws: { "\($0)".contains("a JSON object") }
    }
}
