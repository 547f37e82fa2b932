import Foundation

/// How `swift-tune deploy` serves: the address, the API key, names, limits and logging.
public struct ServerConfiguration: Sendable, Equatable {
    /// `--host`: the address to listen on (`0.0.0.0`: every interface).
    public var host: String
    /// `--port`; 0 picks a free port (the bound one is reported through `onServerRunning`).
    public var port: Int
    /// `--api_key`: when set, every `/v1/…` request needs `Authorization: Bearer <key>` (401 otherwise).
    /// `/health` stays open, as in vLLM.
    public var apiKey: String?
    /// Largest request body read, in bytes; a larger one is a 413.
    public var maxRequestBodyBytes: Int
    /// How long SIGTERM lets requests in flight run before stopping them.
    public var shutdownGracePeriod: Duration
    /// `--log_interval`: seconds between throughput lines (0: none).
    public var logInterval: Double
    /// `--verbose`: one log line per request.
    public var verbose: Bool

    public init(host: String = "0.0.0.0", port: Int = 8000, apiKey: String? = nil,
                maxRequestBodyBytes: Int = 4 << 20, shutdownGracePeriod: Duration = .seconds(10),
                logInterval: Double = 20, verbose: Bool = false) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.shutdownGracePeriod = shutdownGracePeriod
        self.logInterval = logInterval
        self.verbose = verbose
    }
}
