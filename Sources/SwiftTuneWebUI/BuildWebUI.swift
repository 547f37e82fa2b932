import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwiftTuneServer

/// The web UI application: the page at `/`, its JSON endpoints under `/api`, and the OpenAI routes of `deploy`
/// (`/health`, `/v1/…`) that the Chat tab streams from, all on one router. `loadModel` loads the Chat tab's model
/// (the caller picks the backend); `engine` serves it (already loaded for `app --model`).
///
/// Endpoints (JSON; behind `Authorization: Bearer KEY` with `apiKey`):
/// - `GET /api/config` · `GET /api/flags/{sft|pt|rlhf|export|eval}` (the CLI's own flag definitions)
/// - `GET /api/runs` · `POST /api/runs {"command", "args": [{"name", "values"}]}` · `GET /api/runs/{id}` (status,
///   log tail, loss curve) · `POST /api/runs/{id}/stop`
/// - `GET /api/folders?dir=OUTPUT` · `GET /api/curve?folder=RUN` · `GET /api/reports?dir=EVAL_OUTPUT`
/// - `POST /api/chat/load {"model", "adapters"}`, `GET /api/chat/status`, then `POST /v1/chat/completions` (stream)
///   as `deploy` serves it.
public func buildWebUIApplication(
    configuration: WebUIConfiguration, engine: ServingEngine,
    loadModel: @escaping @Sendable (_ model: String, _ adapters: String?) throws -> ServedModel,
    logger: Logger = Logger(label: "swift-tune.web-ui"),
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> (application: some ApplicationProtocol, runs: RunManager) {
    let router = Router(context: ServerRequestContext.self)
    let server = ServerConfiguration(host: configuration.host, port: configuration.port, apiKey: configuration.apiKey,
                                     logInterval: 0)
    addOpenAIRoutes(to: router, engine: engine, configuration: server)
    let guardrail = RootGuard(root: configuration.rootDirectory)
    let runs = RunManager(executable: configuration.executable, guardrail: guardrail)
    let routes = WebUIRoutes(configuration: configuration, runs: runs, flags: FlagCatalog(executable: configuration.executable),
                             guardrail: guardrail, chat: ChatModelSlot(engine: engine), loadModel: loadModel)
    let page = WebUIPage.html(chatOnly: configuration.chatOnly)
    router.get("/") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }
    let api = router.group("api")
    if let key = configuration.apiKey { api.add(middleware: APIKeyMiddleware(key: key)) }
    api.get("config") { _, _ in routes.config() }
    api.post("chat/load") { request, _ in try await routes.loadChatModel(request) }
    api.get("chat/status") { _, _ in routes.chatStatus() }
    if !configuration.chatOnly {
        api.get("flags/:command") { _, context in try routes.flagList(context.parameters.get("command") ?? "") }
        api.get("runs") { _, _ in routes.list() }
        api.post("runs") { request, _ in try await routes.start(request) }
        api.get("runs/:id") { _, context in try routes.detail(try context.parameters.require("id", as: Int.self)) }
        api.post("runs/:id/stop") { _, context in try routes.stop(try context.parameters.require("id", as: Int.self)) }
        api.get("folders") { request, _ in try routes.folders(request) }
        api.get("curve") { request, _ in try routes.curve(request) }
        api.get("reports") { request, _ in try routes.reports(request) }
    }
    let application = Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                serverName: "swift-tune"),
        onServerRunning: onServerRunning, logger: logger)
    return (application, runs)
}

/// `swift-tune web-ui` / `app` as a library call: serves until SIGTERM or SIGINT. Runs started from the page are
/// child processes and keep running after the browser closes.
public enum WebUIServer {
    public static func run(configuration: WebUIConfiguration, engine: ServingEngine = ServingEngine(),
                           loadModel: @escaping @Sendable (String, String?) throws -> ServedModel,
                           logger: Logger = Logger(label: "swift-tune.web-ui"),
                           onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
        let (application, _) = buildWebUIApplication(configuration: configuration, engine: engine, loadModel: loadModel,
                                                     logger: logger, onServerRunning: onServerRunning)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: application)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
