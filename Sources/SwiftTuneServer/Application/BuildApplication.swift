import Hummingbird
import Logging
import NIOCore

/// The OpenAI-compatible application over `engine`: `GET /health`, `GET /v1/models`, `POST /v1/chat/completions`,
/// `POST /v1/completions`. Errors are rendered in one place (`OpenAIErrorMiddleware`) as OpenAI's error object;
/// with `apiKey` set, `/v1/…` needs `Authorization: Bearer <key>`. Kept apart from the command so tests run it
/// in-process (HummingbirdTesting) or on a real socket.
///
/// `onServerRunning` receives the listening channel (its `localAddress` has the port when `port` is 0).
public func buildApplication(
    configuration: ServerConfiguration, engine: ServingEngine, logger: Logger = Logger(label: "swift-tune.deploy"),
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router(context: ServerRequestContext.self)
    addOpenAIRoutes(to: router, engine: engine, configuration: configuration)
    return Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                serverName: "swift-tune"),
        onServerRunning: onServerRunning,
        logger: logger)
}

/// The OpenAI-compatible routes on `router`: the error middleware (every error below it rendered as OpenAI's error
/// object), request logging with `verbose`, `GET /health` and `/v1/…` (behind `apiKey` when set). The web UI adds
/// its own routes beside them on the same router.
public func addOpenAIRoutes(to router: Router<ServerRequestContext>, engine: ServingEngine,
                            configuration: ServerConfiguration) {
    router.add(middleware: OpenAIErrorMiddleware())
    if configuration.verbose { router.add(middleware: LogRequestsMiddleware<ServerRequestContext>(.info)) }
    let routes = OpenAIRoutes(engine: engine, configuration: configuration)
    router.get("health") { _, _ in try routes.health() }
    let v1 = router.group("v1")
    if let key = configuration.apiKey { v1.add(middleware: APIKeyMiddleware(key: key)) }
    v1.get("models") { _, _ in try routes.models() }
    v1.post("chat/completions") { request, context in try await routes.chatCompletions(request, context: context) }
    v1.post("completions") { request, context in try await routes.completions(request, context: context) }
}
