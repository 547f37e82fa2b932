import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SwiftTuneCPU
import SwiftTuneEngine
import SwiftTuneGeneration
@testable import SwiftTuneServer

/// `Tests/Fixtures`.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")
/// The tiny Qwen2 (context 128) with a real 300-token tokenizer and a chat template.
let qwen2Folder = fixtures.appendingPathComponent("golden/qwen2")
/// A LoRA adapter for it (r 4, all-linear).
let swiftAdapter = fixtures.appendingPathComponent("lora/swift_adapter")

/// The options every test serves with: the tiny model as "qwen2", a short system prompt (the template's default
/// one would fill most of the 128-token context), the adapter as "sw".
func serveOptions(queueLimit: Int = 256, maxBatchSize: Int = 4) -> ServeOptions {
    var inference = InferenceOptions(model: qwen2Folder)
    inference.system = "Be brief."
    inference.namedAdapters = ["sw": swiftAdapter]
    inference.engine = EngineOptions(maxBatchSize: maxBatchSize, maxModelLength: 128)
    return ServeOptions(inference: inference, scheduler: SchedulerOptions(queueLimit: queueLimit))
}

/// A loaded model, for one test (each has its own scheduler thread, stopped by `withServer`).
func makeServedModel(queueLimit: Int = 256, maxBatchSize: Int = 4) throws -> ServedModel {
    try ServedModel.load(serveOptions(queueLimit: queueLimit, maxBatchSize: maxBatchSize), backend: CPUBackend(threadCount: 2))
}

/// The same model and options as `infer` loads them, to compare answers with.
func makeReferenceInference() throws -> Inference {
    try Inference.load(serveOptions().inference, backend: CPUBackend(threadCount: 2))
}

/// Runs `test` against the application in-process (router test framework), then stops the model's scheduler.
func withServer<Value: Sendable>(
    _ model: ServedModel?, configuration: ServerConfiguration = ServerConfiguration(logInterval: 0),
    setup: TestingSetup = .router, _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Value
) async throws -> Value {
    let engine = model.map { ServingEngine(model: $0) } ?? ServingEngine()
    let app = buildApplication(configuration: configuration, engine: engine)
    let value = try await app.test(setup) { client in try await test(client) }
    await engine.shutdown(gracePeriod: .seconds(5))
    return value
}

extension TestClientProtocol {
    /// POSTs a JSON body.
    func post(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object.
    var object: [String: Any] {
        get throws {
            try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
        }
    }

    /// The OpenAI error object of an error response.
    var error: [String: Any] {
        get throws { try #require(try object["error"] as? [String: Any], "no error object: \(text)") }
    }

    /// Server-sent events: the JSON payloads in order, and whether the stream ended with `data: [DONE]`.
    var events: (payloads: [[String: Any]], done: Bool) {
        get throws {
            let blocks = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            var payloads: [[String: Any]] = []
            for block in blocks where block != "data: [DONE]" {
                #expect(block.hasPrefix("data: "), "event \(block)")
                let json = String(block.dropFirst("data: ".count))
                payloads.append(try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]))
            }
            return (payloads, blocks.last == "data: [DONE]")
        }
    }
}

/// A JSON body for a chat request to the tiny model.
func chatBody(_ extra: String = "", model: String = "qwen2", content: String = "Hi there") -> String {
    #"{"model": "\#(model)", "messages": [{"role": "user", "content": "\#(content)"}]\#(extra.isEmpty ? "" : ", " + extra)}"#
}
