import Foundation
import Hummingbird
import HummingbirdTesting
import SwiftTuneCPU
import SwiftTuneEngine
import SwiftTuneGeneration
import SwiftTuneServer
import Testing
@testable import SwiftTuneEval

/// `eval --eval_url` against the project's own OpenAI server (`deploy`) on an ephemeral port: the same answers as
/// the model in this process, and clear errors for a server that is not there.
@Suite(.serialized) struct EndpointEvalModelTests {
    @Test func endpointAnswersEqualLocalAnswers() async throws {
        var inference = InferenceOptions(model: qwen2Folder)
        inference.system = "Be brief."
        inference.engine = EngineOptions(maxBatchSize: 4, maxModelLength: 128)
        let served = try ServedModel.load(ServeOptions(inference: inference, servedModelName: "tiny"),
                                          backend: CPUBackend(threadCount: 2))
        let engine = ServingEngine(model: served)
        let app = buildApplication(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, logInterval: 0),
                                   engine: engine)
        let options = EvalOptions(datasets: ["general_qa=" + evalFixtures.appendingPathComponent("custom/qa.jsonl").path])
        let datasets = try Evaluator.loadDatasets(options)
        let remote = try await app.test(.live) { client in
            let port = try #require(client.port)
            let model = try await EndpointEvalModel.connect(baseURL: "http://127.0.0.1:\(port)/v1/", concurrency: 2,
                                                            maxNewTokens: 6, temperature: 0)
            #expect(model.name == "tiny")
            return try await Evaluator.run(datasets, model: model, options: options)
        }
        await engine.shutdown(gracePeriod: .seconds(5))
        let local = try await Evaluator.run(datasets, model: LocalEvalModel(inference: try tinyInference()), options: options)
        let remoteAnswers = try #require(remote.predictions["qa"]).map(\.answer)
        #expect(remoteAnswers == local.predictions["qa"]?.map(\.answer))
        #expect(remote.scores == local.scores)
        #expect(remote.model == "tiny")
    }

    @Test func aServerThatIsDownIsAClearErrorAfterTheRetries() async throws {
        // A port that was free a moment ago: bind, read it, close.
        let app = buildApplication(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, logInterval: 0),
                                   engine: ServingEngine())
        let port = try await app.test(.live) { client in try #require(client.port) }
        await #expect {
            _ = try await EndpointEvalModel.connect(baseURL: "http://127.0.0.1:\(port)/v1", retries: 1)
        } throws: { error in
            guard case let EvalError.endpointUnavailable(url, attempts, _) = error else { return false }
            return url == "http://127.0.0.1:\(port)/v1/models" && attempts == 2 && "\(error)".contains("swift-tune deploy")
        }
    }
}
