import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// GET requests to a hub over AsyncHTTPClient, with redirects followed here rather than by the client, so that
/// a `Range` header survives the hop to a CDN and the token does not (huggingface_hub's clients drop
/// `Authorization` when a redirect leaves the hub's host, and so does this).
struct HubHTTP: Sendable {
    let client: HTTPClient
    let options: HubOptions

    static let redirectStatuses: Set<UInt> = [301, 302, 303, 307, 308]
    static let maxRedirects = 10

    /// Runs `body` with a client configured from `options` (no automatic redirects, no decompression, no
    /// connection retries of its own, connect and read timeouts) and shuts the client down afterwards, whatever happens.
    static func with<T: Sendable>(_ options: HubOptions, _ body: (HubHTTP) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(options.connectTimeout), read: TimeAmount(options.readTimeout)),
            decompression: .disabled)
        configuration.httpVersion = .automatic
        // a refused connection fails at once; ``withRetries`` decides what is worth another try
        configuration.connectionPool.retryConnectionEstablishment = false
        return try await HTTPClient.withHTTPClient(configuration: configuration) { client in
            try await body(HubHTTP(client: client, options: options))
        }
    }

    /// GETs `url`, following up to ``maxRedirects`` redirects; `auth` headers go only to `url`'s own origin.
    /// Returns the final response (its body not yet read) and the URL that answered.
    func get(_ url: String, headers: [(String, String)] = [], auth: [(String, String)] = []) async throws
        -> (response: HTTPClientResponse, url: String) {
        var current = url
        let origin = Origin(url)
        for _ in 0...Self.maxRedirects {
            var request = HTTPClientRequest(url: current)
            request.headers.add(name: "User-Agent", value: "swift-tune")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if Origin(current) == origin {
                for (name, value) in auth { request.headers.add(name: name, value: value) }
            }
            let deadline = NIODeadline.now() + TimeAmount(options.connectTimeout) + TimeAmount(options.readTimeout)
            let response = try await client.execute(request, deadline: deadline)
            guard Self.redirectStatuses.contains(response.status.code),
                  let location = response.headers.first(name: "Location") else {
                return (response, current)
            }
            _ = try? await response.body.collect(upTo: 1 << 20)  // let the connection be reused
            guard let next = URL(string: location, relativeTo: URL(string: current))?.absoluteString else {
                throw HubError.httpStatus(url: current, status: Int(response.status.code),
                                          body: "unreadable redirect Location '\(location)'")
            }
            current = next
        }
        throw HubError.httpStatus(url: url, status: 310, body: "more than \(Self.maxRedirects) redirects")
    }

    /// GETs JSON and decodes it; maps 401/403 and 404 to errors that name `repo`, 408/429/5xx to a retry.
    func getJSON<T: Decodable>(_ type: T.Type, url: String, repo: HubRepo, auth: [(String, String)]) async throws -> T {
        let (response, finalURL) = try await get(url, headers: [("Accept", "application/json")], auth: auth)
        let body = try await response.body.collect(upTo: 256 << 20)
        let data = Data(body.readableBytesView)
        try Self.check(status: Int(response.status.code), url: finalURL, repo: repo, tokenSent: !auth.isEmpty, body: data)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw HubError.invalidListing(url: finalURL, reason: "\(error)")
        }
    }

    /// Throws the error for a non-2xx status: ``HubTransientError`` for the ones worth retrying.
    static func check(status: Int, url: String, repo: HubRepo, tokenSent: Bool, body: Data) throws {
        switch status {
        case 200..<300: return
        case 401, 403: throw HubError.unauthorized(repo: repo, url: url, status: status, tokenSent: tokenSent)
        case 404: throw HubError.notFoundOnHub(repo: repo, url: url)
        case 408, 429, 500...: throw HubTransientError(url: url, reason: "HTTP \(status)")
        default:
            let text = String(decoding: body.prefix(300), as: UTF8.self)
            throw HubError.httpStatus(url: url, status: status, body: text)
        }
    }

    /// Runs `operation` up to `attempts` times while it fails with a dropped connection, a timeout or a
    /// retryable status, waiting `retryDelay`, then twice as long each time (at most 8 s). A ``HubError`` other
    /// than those stops at once, and so does a refused connection or a connect timeout unless
    /// `retryConnectFailures` (the client already waited `connectTimeout` for it). After the last try it throws
    /// ``HubError/network(url:attempts:underlying:)``.
    func withRetries<T: Sendable>(url: String, attempts: Int, retryConnectFailures: Bool = true,
                                  _ operation: (Int) async throws -> T) async throws -> T {
        var delay = options.retryDelay
        var lastError = ""
        let tries = max(1, attempts)
        var made = 0
        for attempt in 1...tries {
            made = attempt
            do {
                return try await operation(attempt)
            } catch let error as HubError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                lastError = "\(error)"
                if !retryConnectFailures, Self.isConnectFailure(error) { break }
            }
            if attempt < tries {
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(8))
            }
        }
        throw HubError.network(url: url, attempts: made, underlying: lastError)
    }

    /// Whether `error` says no connection could be made (refused, unreachable, DNS, connect timeout).
    static func isConnectFailure(_ error: Error) -> Bool {
        if let error = error as? HTTPClientError { return error == .connectTimeout }
        if let error = error as? IOError {
            return [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT].contains(error.errnoCode)
        }
        return error is NIOConnectionError
    }

    /// Scheme, host and port: where a token may be sent.
    struct Origin: Equatable {
        var scheme: String?
        var host: String?
        var port: Int?

        init(_ url: String) {
            let parts = URLComponents(string: url)
            scheme = parts?.scheme?.lowercased()
            host = parts?.host?.lowercased()
            port = parts?.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : nil)
        }
    }
}

/// A failure worth retrying (a dropped connection is any other non-``HubError`` error).
struct HubTransientError: Error, CustomStringConvertible {
    var url: String
    var reason: String
    var description: String { "\(reason) from \(url)" }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
