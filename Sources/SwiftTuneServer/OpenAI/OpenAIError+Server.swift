import Foundation
import SwiftTuneChat
import SwiftTuneEngine
import SwiftTuneGeneration

extension OpenAIError {
    /// 413: the body is larger than the server reads.
    public static func bodyTooLarge(limit: Int) -> OpenAIError {
        OpenAIError(status: 413, message: "The request body is larger than \(limit) bytes.", type: "invalid_request_error",
                    code: "request_too_large")
    }

    /// 404 for a path the server does not have (405 when only the method is wrong).
    public static func routeNotFound(method: String, path: String, status: Int = 404) -> OpenAIError {
        OpenAIError(status: status, message: "No route for \(method) \(path); see GET /v1/models, POST /v1/chat/completions, "
                        + "POST /v1/completions, GET /health.", type: "invalid_request_error", code: "not_found")
    }

    /// A chat template that cannot render the conversation (role order, a system prompt it lacks): 400 on
    /// `messages`.
    public static func chat(_ error: ChatError) -> OpenAIError {
        .invalidRequest("The messages cannot be rendered with the chat template: \(error.description)", param: "messages")
    }

    /// An error from the engine or the scheduler, as its HTTP answer: a full queue is 429, shutting down 503, an
    /// unknown adapter 404, a refused request 400, anything else (the backend failed) 500.
    public static func generation(_ error: any Error) -> OpenAIError {
        if let error = error as? OpenAIError { return error }
        guard let error = error as? GenerationError else { return .internalError("Generation failed: \(error)") }
        switch error {
        case let .queueFull(limit):
            return .overloaded(queueLimit: limit)
        case .shuttingDown:
            return .unavailable("The server is shutting down; the request was not completed.")
        case let .unknownAdapter(name, known):
            return .unknownModel(name, available: known)
        case let .invalidSetting(flag, value, expected):
            let param = ["max_new_tokens": "max_tokens", "stop_words": "stop"][flag] ?? flag
            return .invalidRequest("Invalid value for '\(param)': \(value); expected \(expected).", param: param)
        case .promptTooLong, .cacheTooSmall:
            return .invalidRequest(error.description, code: "context_length_exceeded")
        case .invalidPrompt:
            return .invalidRequest(error.description)
        default:
            return .internalError(error.description)
        }
    }
}
