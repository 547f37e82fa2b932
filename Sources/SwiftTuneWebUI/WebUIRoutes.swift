import Foundation
import Hummingbird
import SwiftTuneServer

/// The page's JSON endpoints, so the route closures stay one line. Every action the page takes is one of these
/// (documented in the README), so scripts can drive runs as well.
struct WebUIRoutes: Sendable {
    let configuration: WebUIConfiguration
    let runs: RunManager
    let flags: FlagCatalog
    let guardrail: RootGuard
    let chat: ChatModelSlot
    let loadModel: @Sendable (_ model: String, _ adapters: String?) throws -> ServedModel

    struct StartRequest: Decodable {
        struct Argument: Decodable { var name: String; var values: [String] }
        var command: String
        var args: [Argument]
    }

    struct LoadRequest: Decodable {
        var model: String
        var adapters: String?
    }

    struct RunDetail: Encodable {
        var run: RunInfo
        var log: String
        /// The newest run folder under the output folder and its curve (training runs).
        var curve: TrainingCurve?
    }

    func config() -> Response {
        struct Config: Encodable {
            var chatOnly: Bool, rootDir: String, commands: [String]
            enum CodingKeys: String, CodingKey { case chatOnly = "chat_only", rootDir = "root_dir", commands }
        }
        return json(Config(chatOnly: configuration.chatOnly, rootDir: guardrail.root.path, commands: FlagCatalog.commands))
    }

    /// `GET /api/flags/{command}`: the command's flags as the CLI defines them.
    func flagList(_ command: String) throws -> Response {
        struct Flags: Encodable { var command: String; var flags: [FlagDefinition] }
        return json(Flags(command: command, flags: try flags.flags(of: command)))
    }

    /// `POST /api/runs`: starts a run; one that the CLI refuses at once (a bad flag value) is a 400 with the CLI's
    /// own message, and the run stays listed as failed. It waits for the child to accept its flags (up to two
    /// minutes on a loaded machine) and then 1.5 s more.
    func start(_ request: Request) async throws -> Response {
        let body = try await decode(StartRequest.self, request)
        let info = try runs.start(command: body.command, arguments: body.args.map { ($0.name, $0.values) })
        let settled = try await runs.settle(info.id, grace: .milliseconds(1500), timeout: .seconds(120))
        if settled.status == .failed {
            let message = try runs.logTail(info.id).trimmingCharacters(in: .whitespacesAndNewlines)
            throw OpenAIError(status: 400, message: message.isEmpty ? "the run exited with \(settled.exitCode ?? -1)" : message,
                              type: "invalid_request_error", param: Self.flagNamed(in: message), code: "cli_refused")
        }
        return json(settled, status: .created)
    }

    /// The flag a CLI message is about (`--lora_rank 0: …` → `lora_rank`), so the page can show it by the field.
    static func flagNamed(in message: String) -> String? {
        guard let match = message.firstMatch(of: #/--([a-z][a-z0-9_]*)/#) else { return nil }
        return String(match.output.1)
    }

    func list() -> Response {
        json(["runs": runs.all])
    }

    func detail(_ id: Int) throws -> Response {
        let run = try runs.run(id)
        var curve: TrainingCurve?
        if ["sft", "pt", "rlhf"].contains(run.command),
           let folder = TrainingCurve.runFolders(in: URL(fileURLWithPath: run.outputDirectory)).last {
            curve = TrainingCurve.read(folder: folder)
        }
        return json(RunDetail(run: run, log: try runs.logTail(id), curve: curve))
    }

    func stop(_ id: Int) throws -> Response {
        json(try runs.stop(id))
    }

    /// `GET /api/curve?folder=RUN`: a run folder's plot points.
    func curve(_ request: Request) throws -> Response {
        let folder = try guardrail.resolve(try query(request, "folder"), field: "folder")
        return json(TrainingCurve.read(folder: folder))
    }

    /// `GET /api/folders?dir=OUTPUT`: the run folders of an output folder, each with its progress.
    func folders(_ request: Request) throws -> Response {
        let directory = try guardrail.resolve(request.uri.queryParameters.get("dir") ?? "output", field: "dir")
        let running = Set(runs.all.filter { $0.status == .running }.map(\.outputDirectory))
        struct Folder: Encodable { var folder: String; var progress: String?; var running: Bool; var points: Int }
        let found = TrainingCurve.runFolders(in: directory).map { url in
            let curve = TrainingCurve.read(folder: url)
            return Folder(folder: url.path, progress: curve.progress,
                          running: running.contains(directory.path) && url == TrainingCurve.runFolders(in: directory).last,
                          points: curve.points.count)
        }
        return json(["folders": found])
    }

    /// `GET /api/reports?dir=eval_output`: the `report.json` of every eval run there, newest first.
    func reports(_ request: Request) throws -> Response {
        let directory = try guardrail.resolve(request.uri.queryParameters.get("dir") ?? "eval_output", field: "dir")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted().reversed()
        var entries: [String] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        for name in names {
            let file = directory.appendingPathComponent(name).appendingPathComponent("report.json")
            guard let data = FileManager.default.contents(atPath: file.path), (try? JSONSerialization.jsonObject(with: data)) != nil,
                  let path = try? encoder.encode(file.path) else { continue }
            entries.append(#"{"path":"# + String(decoding: path, as: UTF8.self) + #","report":"# + String(decoding: data, as: UTF8.self) + "}")
        }
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"reports":["# + entries.joined(separator: ",") + "]}")))
    }

    /// `GET /api/chat/status`: idle, loading, ready or failed (with why).
    func chatStatus() -> Response {
        json(chat.current)
    }

    /// `POST /api/chat/load {"model", "adapters"}`: loads a model for the Chat tab on its own thread (202;
    /// `GET /api/chat/status` says when it is ready or why it failed); the model before it keeps answering until then.
    func loadChatModel(_ request: Request) async throws -> Response {
        let body = try await decode(LoadRequest.self, request)
        for (field, value) in [("model", body.model), ("adapters", body.adapters ?? "")]
        where !value.isEmpty && (FileManager.default.fileExists(atPath: guardrail.root.appendingPathComponent(value).path)
                                 || RootGuard.isPathArgument(name: field, value: value)) {
            _ = try guardrail.resolve(value, field: field)
        }
        let load = self.loadModel
        let root = guardrail.root
        let model = body.model.hasPrefix("/") || !FileManager.default.fileExists(atPath: root.appendingPathComponent(body.model).path)
            ? body.model : root.appendingPathComponent(body.model).path
        let adapters = body.adapters.flatMap { $0.isEmpty ? nil : ($0.hasPrefix("/") ? $0 : root.appendingPathComponent($0).path) }
        chat.load(body.model) { try load(model, adapters) }
        return json(["status": "loading", "model": body.model], status: .accepted)
    }

    // MARK: Helpers

    func query(_ request: Request, _ name: String) throws -> String {
        guard let value = request.uri.queryParameters.get(name), !value.isEmpty else {
            throw OpenAIError(status: 400, message: "missing query parameter '\(name)'", type: "invalid_request_error", param: name)
        }
        return value
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch {
            throw OpenAIError(status: 400, message: "the body is not the JSON this endpoint takes: \(error)",
                              type: "invalid_request_error")
        }
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"message":"the response could not be encoded"}}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
