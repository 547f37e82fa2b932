import Foundation
import SwiftTuneChat
import SwiftTuneJSON
import Testing
@testable import SwiftTuneEval

/// The engine-backed model: log-likelihoods against HF transformers on the tiny Qwen2, and generation through
/// the batched engine equal to `Inference.respond` one request at a time.
@Suite(.serialized) struct LocalEvalModelTests {
    @Test func logLikelihoodsMatchTransformers() async throws {
        let text = try String(contentsOf: evalFixtures.appendingPathComponent("goldens.json"), encoding: .utf8)
        let cases = try #require(try JSONParser.parse(text)["loglikelihood"]?.arrayValue)
        let model = LocalEvalModel(inference: try tinyInference(), tokensPerPass: 200)  // several passes
        var requests: [LogLikelihoodRequest] = []
        for entry in cases {
            let question = try #require(entry["question"]?.stringValue)
            let letters = try #require(strings(entry["letters"]))
            let request = LogLikelihoodRequest(conversation: Conversation(messages: [.user(question)]), prefix: "ANSWER:",
                                               continuations: letters.map { " \($0)" }, location: "golden")
            let (context, continuations) = try model.tokenIDs(request)
            #expect(context.map(Int.init) == ints(entry["context_ids"]))
            #expect(continuations.map { $0.map(Int.init) }
                == entry["continuation_ids"]?.arrayValue?.map { ints($0) ?? [] })
            requests.append(request)
        }
        let scores = try await model.logLikelihoods(requests)
        for (entry, got) in zip(cases, scores) {
            let gold = try #require(doubles(entry["loglikelihoods"]))
            #expect(got.count == gold.count)
            let diff = zip(got, gold).map { abs($0 - $1) }.max() ?? .infinity
            #expect(diff < 1e-3, "max |swift-tune − transformers| \(diff): \(got) vs \(gold)")
        }
    }

    @Test func multipleChoiceBothWaysOnTheTinyModel() async throws {
        let inference = try tinyInference()
        let model = LocalEvalModel(inference: inference)
        var options = EvalOptions(datasets: ["general_mcq=" + evalFixtures.appendingPathComponent("custom/tiny_mcq.jsonl").path])
        options.datasetArguments = [options.datasets[0]: EvalDatasetArguments(promptTemplate: "{question}\n{choices}")]
        let datasets = try Evaluator.loadDatasets(options)
        let report = try await Evaluator.run(datasets, model: model, options: options)
        let predictions = try #require(report.predictions["tiny_mcq"])
        #expect(predictions.map(\.method) == ["generation", "generation", "generation",
                                              "loglikelihood", "loglikelihood", "loglikelihood"])
        // The log-likelihood rows pick the argmax of transformers' scores of the same prompts.
        let text = try String(contentsOf: evalFixtures.appendingPathComponent("goldens.json"), encoding: .utf8)
        let cases = try #require(try JSONParser.parse(text)["loglikelihood"]?.arrayValue)
        for (prediction, entry) in zip(predictions.suffix(3), cases) {
            let gold = try #require(doubles(entry["loglikelihoods"]))
            let letters = try #require(strings(entry["letters"]))
            let best = letters[gold.indices.max { gold[$0] < gold[$1] }!]
            #expect(prediction.extracted == best)
            #expect(prediction.prompt == entry["question"]?.stringValue)
        }
        // The generated rows are the engine's greedy answers to the same prompts, one at a time.
        for (prediction, sample) in zip(predictions.prefix(3), datasets[0].samples) {
            let alone = try inference.respond(to: EvalPrompt.conversation(for: sample, template: "{question}\n{choices}"))
            #expect(prediction.answer == alone.text)
        }
        #expect(report.scores.map(\.metric) == ["acc", "acc_loglikelihood"])
    }

    @Test func aPromptLongerThanTheContextNamesTheRow() async throws {
        let model = LocalEvalModel(inference: try tinyInference())
        let request = LogLikelihoodRequest(conversation: Conversation(messages: [.user(String(repeating: "word ", count: 100))]),
                                           prefix: "ANSWER:", continuations: [" A"], location: "set.jsonl:7")
        await #expect { try await model.logLikelihoods([request]) } throws: { "\($0)".hasPrefix("set.jsonl:7: the prompt") }
    }
}
