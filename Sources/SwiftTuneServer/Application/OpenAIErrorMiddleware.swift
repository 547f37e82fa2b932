import Hummingbird
import Logging

/// The one place errors become HTTP answers: every error a route or middleware throws is rendered as OpenAI's
/// `{"error": {"message", "type", "param", "code"}}` with its status; Hummingbird's own (no route, a body too large)
/// are mapped to the same shape; anything unexpected is a 500 that says what failed.
struct OpenAIErrorMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let rendered = Self.openAIError(error, request: request)
            if rendered.status == 500 {
                context.logger.error("\(request.method) \(request.uri.path): \(rendered.error.message)")
            }
            return .error(rendered)
        }
    }

    static func openAIError(_ error: any Error, request: Request) -> OpenAIError {
        switch error {
        case let error as OpenAIError:
            return error
        case let error as HTTPError:
            switch error.status {
            case .notFound, .methodNotAllowed:
                return .routeNotFound(method: request.method.rawValue, path: request.uri.path, status: error.status.code)
            case .contentTooLarge:
                return OpenAIError(status: 413, message: error.body ?? "The request body is too large.",
                                   type: "invalid_request_error", code: "request_too_large")
            default:
                let message = error.body ?? error.status.reasonPhrase
                return OpenAIError(status: error.status.code, message: message,
                                   type: error.status.code >= 500 ? "server_error" : "invalid_request_error")
            }
        default:
            return .generation(error)
        }
    }
}
