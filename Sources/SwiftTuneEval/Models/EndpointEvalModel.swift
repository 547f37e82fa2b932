import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwiftTuneChat

/// An OpenAI-compatible server (`--eval_url http://host:port/v1`, e.g. `swift-tune deploy` or vLLM): each
/// conversation is one `POST /chat/completions`, `concurrency` at a time (`--eval_num_proc`). A request that fails
/// to connect, times out or gets a 5xx / 429 is retried (`retries` times, waiting 0.5 s, 1 s, 2 s…); a 4xx is not.
public struct EndpointEvalModel: EvalModel {
    /// The API base, ending before `/chat/completions` (`http://127.0.0.1:8000/v1`).
    public var baseURL: String
    /// The `model` every request names.
    public var name: String
    public var apiKey: String?
    public var concurrency: Int
    public var maxNewTokens: Int?
    public var temperature: Double
    public var retries: Int
    public var timeout: Duration

    public init(baseURL: String, model: String, apiKey: String? = nil, concurrency: Int = 8, maxNewTokens: Int? = nil,
                temperature: Double = 0, retries: Int = 3, timeout: Duration = .seconds(600)) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.name = model
        self.apiKey = apiKey
        self.concurrency = max(1, concurrency)
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.retries = max(0, retries)
        self.timeout = timeout
    }

    /// Connects to `baseURL`: the first id of `GET /models` names the model unless `model` is given.
    public static func connect(baseURL: String, model: String? = nil, apiKey: String? = nil, concurrency: Int = 8,
                               maxNewTokens: Int? = nil, temperature: Double = 0, retries: Int = 3) async throws -> EndpointEvalModel {
        var endpoint = EndpointEvalModel(baseURL: baseURL, model: model ?? "", apiKey: apiKey, concurrency: concurrency,
                                         maxNewTokens: maxNewTokens, temperature: temperature, retries: retries)
        let body = try await endpoint.send(method: .GET, path: "/models", body: nil)
        struct Models: Decodable { struct Entry: Decodable { var id: String }; var data: [Entry] }
        guard let models = try? JSONDecoder().decode(Models.self, from: body) else {
            throw EvalError.endpointResponse(url: endpoint.baseURL + "/models", status: 200,
                                             body: "not an OpenAI model list: " + String(decoding: body, as: UTF8.self))
        }
        if model == nil {
            guard let first = models.data.first else {
                throw EvalError.endpointResponse(url: endpoint.baseURL + "/models", status: 200, body: "the server lists no model")
            }
            endpoint.name = first.id
        }
        return endpoint
    }

    public var scoresLogLikelihood: Bool { false }

    public func logLikelihoods(_ requests: [LogLikelihoodRequest]) async throws -> [[Double]] {
        throw EvalError.invalidSetting(flag: "eval_mcq_scoring", value: "loglikelihood",
                                       expected: "generation with --eval_url (a chat endpoint gives no prompt log-probabilities); "
                                           + "score log-likelihoods with --model")
    }

    public func generate(_ conversations: [Conversation],
                         progress: @escaping @Sendable (Int) -> Void) async throws -> [String] {
        var answers = [String](repeating: "", count: conversations.count)
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var next = 0, done = 0
            func launch() {
                let index = next, conversation = conversations[index]
                group.addTask { (index, try await self.complete(conversation)) }
                next += 1
            }
            while next < min(concurrency, conversations.count) { launch() }
            while let (index, answer) = try await group.next() {
                answers[index] = answer
                done += 1
                progress(done)
                if next < conversations.count { launch() }
            }
        }
        return answers
    }

    /// One chat completion's answer text.
    func complete(_ conversation: Conversation) async throws -> String {
        struct WireMessage: Codable { var role: String; var content: String }
        struct Request: Encodable {
            var model: String
            var messages: [WireMessage]
            var temperature: Double
            var maxTokens: Int?
            var stream = false
            enum CodingKeys: String, CodingKey { case model, messages, temperature, stream; case maxTokens = "max_tokens" }
        }
        struct Response: Decodable { struct Choice: Decodable { var message: WireMessage }; var choices: [Choice] }
        var messages = conversation.system.map { [WireMessage(role: "system", content: $0)] } ?? []
        messages += conversation.messages.map { WireMessage(role: $0.role.rawValue, content: $0.content) }
        let body = try JSONEncoder().encode(Request(model: name, messages: messages, temperature: temperature,
                                                    maxTokens: maxNewTokens))
        let data = try await send(method: .POST, path: "/chat/completions", body: body)
        guard let response = try? JSONDecoder().decode(Response.self, from: data), let first = response.choices.first else {
            throw EvalError.endpointResponse(url: baseURL + "/chat/completions", status: 200,
                                             body: "not a chat completion: " + String(decoding: data, as: UTF8.self))
        }
        return first.message.content
    }

    /// The client of every endpoint model: a refused connection fails at once (the retries here decide what is
    /// worth another try), connecting gives up after 10 s. Process-wide and never shut down, as `HTTPClient.shared`.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Sends one request with the retries; returns the body of a 2xx answer.
    func send(method: HTTPMethod, path: String, body: Data?) async throws -> Data {
        let url = baseURL + path
        var lastReason = ""
        for attempt in 0...retries {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(500 << min(attempt - 1, 6))) }
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "Content-Type", value: "application/json")
            if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response: HTTPClientResponse
            let bytes: ByteBuffer
            do {
                response = try await Self.client.execute(request, timeout: .init(timeout))
                bytes = try await response.body.collect(upTo: 64 << 20)
            } catch {
                lastReason = "\(error)"
                continue
            }
            let data = Data(bytes.readableBytesView)
            let status = Int(response.status.code)
            if (200..<300).contains(status) { return data }
            if status == 429 || status >= 500 {
                lastReason = "HTTP \(status): " + String(decoding: data.prefix(300), as: UTF8.self)
                continue
            }
            throw EvalError.endpointResponse(url: url, status: status, body: String(decoding: data, as: UTF8.self))
        }
        throw EvalError.endpointUnavailable(url: url, attempts: retries + 1, reason: lastReason)
    }
}
