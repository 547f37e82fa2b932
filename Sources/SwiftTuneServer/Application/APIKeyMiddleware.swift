import Hummingbird

/// `--api_key`: a request must carry `Authorization: Bearer <key>`; a missing or wrong key is a 401.
public struct APIKeyMiddleware: RouterMiddleware {
    public typealias Context = ServerRequestContext
    let key: String

    public init(key: String) {
        self.key = key
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], Self.constantTimeEqual(header, "Bearer " + key) else {
            throw OpenAIError.unauthorized
        }
        return try await next(request, context)
    }

    /// Compares without stopping at the first difference, so the time taken does not tell how much of a guess
    /// was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0 && x.count == y.count
    }
}
