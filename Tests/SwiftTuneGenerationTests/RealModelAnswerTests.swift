import Foundation
import SwiftTuneChat
import SwiftTuneCPU
import SwiftTuneTestSupport
import Testing
import SwiftTuneEngine
@testable import SwiftTuneGeneration

/// The real GGUF models that `scripts/fetch_test_models.sh` keeps in `.cache/models`, answering greedily through
/// `Inference` as `swift-tune infer --model FILE.gguf --temperature 0` does.
@Suite(.serialized) struct RealModelAnswerTests {
    static let models = fixtures.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".cache/models")
    static let qwenCoder = models.appendingPathComponent("Qwen2.5-Coder-0.5B-Instruct.gguf")
    /// Why the Qwen2.5-Coder file is absent, when the fetch script could not download it.
    static let qwenCoderUnavailable = try? String(contentsOf: models.appendingPathComponent("Qwen2.5-Coder-0.5B-Instruct.gguf.unavailable"),
                                                  encoding: .utf8)

    /// The greedy answer to `question` (a user turn; `system` nil leaves the template's default) and the template.
    static func answer(_ model: URL, _ question: String, system: String? = nil, maxNewTokens: Int) async throws
        -> (text: String, template: String) {
        try #require(FileManager.default.fileExists(atPath: model.path),
                     "\(model.path) is missing: run scripts/fetch_test_models.sh (PyPI)")
        return try await onOwnThread {
            var options = InferenceOptions(model: model)
            options.sampling = SamplingFlags(maxNewTokens: maxNewTokens, temperature: 0)
            let inference = try Inference.load(options, backend: CPUBackend(threadCount: 2))
            let conversation = Conversation(system: system, messages: [.user(question)])
            return (try inference.respond(to: conversation).text, inference.template.name)
        }
    }

    /// SmolLM2-135M-Instruct (Q4_1), ChatML without a system turn.
    @Test func smolLM2KnowsTheCapitalOfFrance() async throws {
        let smolLM2 = Self.models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")
        let (text, template) = try await Self.answer(smolLM2, "What is the capital of France?", maxNewTokens: 32)
        #expect(template == "chatml")
        #expect(text.contains("Paris"), "SmolLM2's answer: \(text)")
    }

    /// Qwen2.5-Coder-0.5B-Instruct (mostly Q5_0, with Q8_0, Q6_K, Q4_K tensors), Qwen2.5's template.
    @Test(.enabled(if: qwenCoderUnavailable == nil, Comment(rawValue: qwenCoderUnavailable ?? "")))
    func qwenCoderWritesAPythonFunction() async throws {
        let (text, template) = try await Self.answer(Self.qwenCoder, "Write a Python function that returns the square of x.",
                                                     maxNewTokens: 48)
        #expect(template == "qwen2_5")
        let code = text.replacingOccurrences(of: " ", with: "")
        #expect(text.contains("def ") && code.contains("return") && ["x*x", "x**2", "pow(x,2)"].contains { code.contains($0) },
                "Qwen2.5-Coder's answer: \(text)")
    }
}
