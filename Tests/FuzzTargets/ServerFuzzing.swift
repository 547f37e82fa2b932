import Foundation
import SwiftTuneCPU
import SwiftTuneEngine
import SwiftTuneGeneration
@testable import SwiftTuneServer

/// The `server` target: the input is a request body, decoded and planned as `POST /v1/chat/completions`
/// (`ChatCompletions.plan`) and `POST /v1/completions` (`TextCompletions.plan`) plan it for the tiny Qwen2 fixture
/// (nothing is generated). Every refusal is an `OpenAIError`, which the server answers as a 4xx JSON error. The
/// body cap (413) sits before these in the route (`maxRequestBodyBytes`, tested in SwiftTuneServerTests).
enum ServerFuzzing {
    static let model: Result<ServedModel, any Error> = Result {
        var inference = InferenceOptions(model: FuzzFixtures.qwen2)
        inference.system = "Be brief."
        inference.engine = EngineOptions(maxBatchSize: 1, maxModelLength: 128)
        return try ServedModel.load(ServeOptions(inference: inference), backend: CPUBackend(useBLAS: false, threadCount: 1))
    }

    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        let model: ServedModel
        switch self.model {
        case let .success(loaded): model = loaded
        case let .failure(error): return .unexpected("the fixture model did not load: \(error)")
        }
        let body = Data(bytes)
        var refusals: [String] = []
        for route in ["chat", "completions"] {
            do throws(OpenAIError) {
                if route == "chat" { _ = try ChatCompletions.plan(body, model: model) } else {
                    _ = try TextCompletions.plan(body, model: model)
                }
            } catch {
                guard (400..<500).contains(error.status) else { return .unexpected("\(route): status \(error.status): \(error)") }
                refusals.append("\(route): \(error)")
            }
        }
        return refusals.isEmpty ? .accepted : .refused(refusals.joined(separator: "; "))
    }

    /// Request bodies for both routes: plain, streamed with usage, sampling fields at their edges, several prompts.
    static let seeds: [(name: String, bytes: [UInt8])] = [
        ("chat", #"{"model":"qwen2","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":8}"#),
        ("chat-stream", #"{"model":"qwen2","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":"And?"}],"stream":true,"stream_options":{"include_usage":true},"temperature":0,"seed":1,"stop":["\n"],"logprobs":true,"top_logprobs":2}"#),
        ("chat-edges", #"{"model":"qwen2","messages":[{"role":"user","content":""}],"max_tokens":0,"n":128,"top_p":0,"top_k":-1,"temperature":1e308,"presence_penalty":-2,"repetition_penalty":0}"#),
        ("completion", #"{"model":"qwen2","prompt":"Once upon","max_tokens":4,"echo":true}"#),
        ("completion-prompts", #"{"model":"qwen2","prompt":["a","b",""],"n":2,"stop":"x","logprobs":3}"#),
    ].map { ($0.0, Array($0.1.utf8)) }
}
