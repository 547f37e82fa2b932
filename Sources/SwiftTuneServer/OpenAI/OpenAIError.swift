import Foundation

/// An error as the OpenAI API returns it: `{"error": {"message", "type", "param", "code"}}` with an HTTP status.
public struct OpenAIError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public struct Body: Sendable, Equatable, Codable {
        public var message: String
        public var type: String
        public var param: String?
        public var code: String?

        /// Every key is written, `param` and `code` as null when absent, as OpenAI writes them.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            try container.encode(param, forKey: .param)
            try container.encode(code, forKey: .code)
        }
    }

    public var error: Body
    /// The HTTP status (not part of the JSON body).
    public var status: Int

    enum CodingKeys: String, CodingKey { case error }

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil) {
        error = Body(message: message, type: type, param: param, code: code)
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        error = try decoder.container(keyedBy: CodingKeys.self).decode(Body.self, forKey: .error)
        status = 0
    }

    public var description: String { "\(status) \(error.type): \(error.message)" }

    /// 400: the request is malformed or a value is out of range; `param` names the field.
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> OpenAIError {
        OpenAIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// 401: missing or wrong API key.
    public static let unauthorized = OpenAIError(
        status: 401, message: "Incorrect or missing API key: pass it as 'Authorization: Bearer <key>'.",
        type: "invalid_request_error", code: "invalid_api_key")

    /// 404: the model (or adapter) is not served here.
    public static func unknownModel(_ name: String, available: [String]) -> OpenAIError {
        OpenAIError(status: 404, message: "The model '\(name)' does not exist; served models: \(available.joined(separator: ", ")).",
                    type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    /// 429: the request queue is full.
    public static func overloaded(queueLimit: Int) -> OpenAIError {
        OpenAIError(status: 429, message: "The server is at capacity (\(queueLimit) queued requests); retry later.",
                    type: "rate_limit_error", code: "rate_limit_exceeded")
    }

    /// 503: the model is still loading or the server is shutting down.
    public static func unavailable(_ message: String) -> OpenAIError {
        OpenAIError(status: 503, message: message, type: "server_error", code: "service_unavailable")
    }

    /// 500: something failed inside the server; the message says what.
    public static func internalError(_ message: String) -> OpenAIError {
        OpenAIError(status: 500, message: message, type: "server_error")
    }

    /// The JSON body.
    public var json: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data(#"{"error":{"message":"internal error","type":"server_error"}}"#.utf8)
    }

    /// A request-body decoding failure as a 400 naming the field (`messages[0].content`) and what was wrong.
    public static func decoding(_ error: any Error) -> OpenAIError {
        guard let error = error as? DecodingError else {
            return .invalidRequest("The request body is not valid JSON: \(error)")
        }
        func path(_ keys: [any CodingKey]) -> String? {
            let parts = keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }
            let joined = parts.joined()
            return joined.isEmpty ? nil : String(joined.drop { $0 == "." })
        }
        switch error {
        case let .typeMismatch(type, context):
            return .invalidRequest("Invalid type for '\(path(context.codingPath) ?? "body")': expected \(describe(type)).",
                                   param: path(context.codingPath), code: "invalid_type")
        case let .valueNotFound(type, context):
            return .invalidRequest("'\(path(context.codingPath) ?? "body")' must be \(describe(type)), not null.",
                                   param: path(context.codingPath), code: "invalid_type")
        case let .keyNotFound(key, context):
            let name = path(context.codingPath + [key]) ?? key.stringValue
            return .invalidRequest("Missing required parameter: '\(name)'.", param: name, code: "missing_required_parameter")
        case let .dataCorrupted(context):
            let underlying = (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
            return .invalidRequest(context.codingPath.isEmpty
                ? "The request body is not valid JSON: \(underlying)"
                : "Invalid value for '\(path(context.codingPath) ?? "")': \(context.debugDescription)",
                param: path(context.codingPath))
        @unknown default:
            return .invalidRequest("Invalid request body: \(error)")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int32.Type, is Int64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "a boolean"
        default: "\(type)".contains("Array") ? "an array" : "an object of the expected shape"
        }
    }
}
