import Foundation
import SwiftTuneCPU
import SwiftTuneEngine
import SwiftTuneGeneration
import SwiftTuneJSON
import Testing
@testable import SwiftTuneEval

/// Multiple-choice log-likelihoods of Qwen2.5-Coder-0.5B-Instruct (the tests' GGUF) against llama.cpp's on the same
/// prompts (`scripts/golden/make_eval_llama_cpp_goldens.py`): the same token ids, scores within 1e-3.
///
/// Opt-in (`SWIFT_TUNE_EVAL_LLAMA_PARITY=1`): scoring 16 sequences of ~140 tokens of the 0.5B GGUF ran past 15 CPU
/// minutes in a debug build on 2 shared cores without finishing, so it has not yet been seen to pass.
@Suite(.serialized) struct LlamaCppParityTests {
    static let models = fixtures.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".cache/models")
    static let qwenCoder = models.appendingPathComponent("Qwen2.5-Coder-0.5B-Instruct.gguf")
    /// Why the file is absent, when the fetch script could not download it (the check is then skipped with it).
    static let unavailable = try? String(contentsOf: models.appendingPathComponent("Qwen2.5-Coder-0.5B-Instruct.gguf.unavailable"),
                                         encoding: .utf8)

    @Test(.enabled(if: ProcessInfo.processInfo.environment["SWIFT_TUNE_EVAL_LLAMA_PARITY"] == "1",
                   "opt-in: SWIFT_TUNE_EVAL_LLAMA_PARITY=1 (slow in a debug build)"),
          .disabled(if: unavailable != nil, "\(unavailable ?? "")"))
    func multipleChoiceLogLikelihoodsMatchLlamaCpp() async throws {
        try #require(FileManager.default.fileExists(atPath: Self.qwenCoder.path),
                     "\(Self.qwenCoder.path) is missing: run scripts/fetch_test_models.sh (PyPI)")
        let text = try String(contentsOf: evalFixtures.appendingPathComponent("qwen_coder_mcq_llama_cpp.json"), encoding: .utf8)
        let cases = try #require(try JSONParser.parse(text)["cases"]?.arrayValue)
        var options = InferenceOptions(model: Self.qwenCoder)
        options.engine = EngineOptions(maxBatchSize: 1, maxModelLength: 1024)
        let model = LocalEvalModel(inference: try Inference.load(options, backend: CPUBackend(threadCount: 2)))
        let datasets = try Evaluator.loadDatasets(EvalOptions(datasets: [
            "mmlu=" + evalFixtures.appendingPathComponent("mmlu/abstract_algebra_test.csv").path,
            "general_mcq=" + evalFixtures.appendingPathComponent("custom/tiny_mcq.jsonl").path,
        ]))
        let requests = datasets.flatMap(\.samples).map { EvalPrompt.choiceRequest(for: $0) }
        #expect(requests.count == cases.count)
        for (request, entry) in zip(requests, cases) {
            #expect(request.conversation.messages.last?.content == entry["user"]?.stringValue)
            let (context, continuations) = try model.tokenIDs(request)
            #expect(context.map(Int.init) == ints(entry["context_ids"]))
            #expect(continuations.map { $0.map(Int.init) } == entry["continuation_ids"]?.arrayValue?.map { ints($0) ?? [] })
        }
        let scores = try await model.logLikelihoods(requests)
        for (got, entry) in zip(scores, cases) {
            let gold = try #require(doubles(entry["loglikelihoods"]))
            let diff = zip(got, gold).map { abs($0 - $1) }.max() ?? .infinity
            #expect(diff < 1e-3, "max |swift-tune − llama.cpp| \(diff): \(got) vs \(gold)")
        }
    }
}
