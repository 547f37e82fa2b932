import Foundation
import Hummingbird

/// The endpoints' bodies, so the route closures stay one line: read the body, plan, run, answer.
struct OpenAIRoutes: Sendable {
    let engine: ServingEngine
    let configuration: ServerConfiguration

    /// `GET /health`: 200 `{"status": "ok"}` once the model is loaded; 503 while it loads or the server stops.
    func health() throws(OpenAIError) -> Response {
        let model = try engine.model()
        return .json(["status": "ok", "model": model.name])
    }

    /// `GET /v1/models`: the base model and every named adapter.
    func models() throws(OpenAIError) -> Response {
        let model = try engine.model()
        let owner = "swift-tune"
        return .json(ModelList(data: model.modelIDs.map { ModelList.Model(id: $0, created: model.created, ownedBy: owner) }))
    }

    /// `POST /v1/chat/completions`.
    func chatCompletions(_ request: Request, context: ServerRequestContext) async throws(OpenAIError) -> Response {
        let body = try await read(request)
        let model = try engine.model()
        let (decoded, plan) = try ChatCompletions.plan(body, model: model)
        return try await CompletionRunner.respond(plan, format: ChatFormat(model: decoded.model), stream: decoded.stream,
                                                  includeUsage: decoded.includeUsageInStream, context: context)
    }

    /// `POST /v1/completions`.
    func completions(_ request: Request, context: ServerRequestContext) async throws(OpenAIError) -> Response {
        let body = try await read(request)
        let model = try engine.model()
        let (decoded, plan) = try TextCompletions.plan(body, model: model)
        let format = TextFormat(model: decoded.model, prompts: decoded.prompts, choicesPerPrompt: plan.choicesPerPrompt,
                                echo: decoded.echo)
        return try await CompletionRunner.respond(plan, format: format, stream: decoded.stream,
                                                  includeUsage: decoded.includeUsageInStream, context: context)
    }

    /// The request body, at most `maxRequestBodyBytes` (413 past it).
    func read(_ request: Request) async throws(OpenAIError) -> Data {
        let limit = configuration.maxRequestBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw .bodyTooLarge(limit: limit) }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw .bodyTooLarge(limit: limit)
        } catch {
            throw .invalidRequest("The request body could not be read: \(error)")
        }
    }
}
