import Foundation
import SwiftTuneChat
import SwiftTuneCPU
import SwiftTuneEngine
import SwiftTuneEval
import SwiftTuneGeneration
import SwiftTuneJSON

/// `Tests/Fixtures`.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")
/// The hand-written evaluation sets.
let evalFixtures = fixtures.appendingPathComponent("eval")
/// The tiny Qwen2 (context 128) with a real 300-token tokenizer.
let qwen2Folder = fixtures.appendingPathComponent("golden/qwen2")

/// The tiny model as `eval --model` loads it: greedy, short answers, "Be brief." as the system prompt.
func tinyInference(maxNewTokens: Int = 6, maxBatchSize: Int = 4) throws -> Inference {
    var options = InferenceOptions(model: qwen2Folder)
    options.system = "Be brief."
    options.engine = EngineOptions(maxBatchSize: maxBatchSize, maxModelLength: 128)
    options.sampling = SamplingFlags(maxNewTokens: maxNewTokens, temperature: 0)
    return try Inference.load(options, backend: CPUBackend(threadCount: 2))
}

/// A fresh temporary folder.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-eval-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A model that answers from a table (by the last user turn's question line), for scoring tests without a network
/// or weights.
struct CannedModel: EvalModel {
    var name = "canned"
    var answers: @Sendable (String) -> String
    var scoresLogLikelihood: Bool { false }

    func generate(_ conversations: [Conversation], progress: @escaping @Sendable (Int) -> Void) async throws -> [String] {
        conversations.enumerated().map { index, conversation in
            progress(index + 1)
            return answers(conversation.messages.last?.content ?? "")
        }
    }

    func logLikelihoods(_ requests: [LogLikelihoodRequest]) async throws -> [[Double]] {
        throw EvalError.invalidSetting(flag: "eval_mcq_scoring", value: "loglikelihood", expected: "generation")
    }
}

/// The strings of a JSON array (nil when it is not one).
func strings(_ value: JSONValue?) -> [String]? { value?.arrayValue.map { $0.compactMap { $0.stringValue } } }
/// The numbers of a JSON array.
func doubles(_ value: JSONValue?) -> [Double]? { value?.arrayValue.map { $0.compactMap { $0.doubleValue } } }
/// The integers of a JSON array.
func ints(_ value: JSONValue?) -> [Int]? { value?.arrayValue.map { $0.compactMap { $0.intValue } } }
