import Foundation
import Hummingbird
import HummingbirdTesting
import SwiftTuneCPU
import SwiftTuneEngine
import SwiftTuneGeneration
import SwiftTuneJSON
import SwiftTuneServer
import Testing
@testable import SwiftTuneWebUI

/// `Tests/Fixtures`.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

/// A stand-in `swift-tune` for the server's child processes: it prints a flag dump for `--experimental-dump-help`,
/// refuses `--lora_rank 0` with the CLI's wording, and otherwise marks its flags accepted (as the CLI does) and writes one `logging.jsonl` line per step into
/// `OUTPUT/v0-…/` (0.2 s apart), so the tests see a run grow and finish without training a model.
let fakeExecutable = #"""
#!/bin/sh
command=$1; shift
if [ "$1" = "--experimental-dump-help" ]; then
  printf '%s' '{"command":{"arguments":[{"kind":"option","preferredName":{"kind":"long","name":"model"},"abstract":"The model.","isOptional":true,"isRepeating":false,"shouldDisplay":true},{"kind":"option","preferredName":{"kind":"long","name":"lora_rank"},"abstract":"LoRA rank.","defaultValue":"8","isOptional":true,"isRepeating":false,"shouldDisplay":true},{"kind":"option","preferredName":{"kind":"long","name":"train_type"},"abstract":"lora or full.","allValues":["lora","full"],"isOptional":true,"isRepeating":false,"shouldDisplay":true},{"kind":"option","preferredName":{"kind":"long","name":"dataset"},"abstract":"Datasets.","isOptional":false,"isRepeating":true,"shouldDisplay":true},{"kind":"flag","preferredName":{"kind":"long","name":"help"},"abstract":"Show help.","isOptional":true,"isRepeating":false,"shouldDisplay":true}]}}'
  exit 0
fi
out=output; steps=3
while [ $# -gt 0 ]; do
  case $1 in
    --output_dir) out=$2; shift ;;
    --max_steps) steps=$2; shift ;;
    --lora_rank) if [ "$2" -le 0 ]; then echo "Error: --lora_rank $2: expected a positive integer" >&2; exit 64; fi; shift ;;
  esac
  shift
done
[ -n "$SWIFT_TUNE_ARGUMENTS_ACCEPTED" ] && : > "$SWIFT_TUNE_ARGUMENTS_ACCEPTED"
mkdir -p "$out/v0-20261207-120000"
i=1
while [ $i -le $steps ]; do
  echo "{\"loss\": $((10 - i)).5, \"grad_norm\": 1.0, \"learning_rate\": 0.0001, \"global_step/max_steps\": \"$i/$steps\"}" >> "$out/v0-20261207-120000/logging.jsonl"
  echo "step $i"
  sleep 0.2
  i=$((i + 1))
done
echo "$command done"
"""#

struct WebUIFixture {
    let root: URL
    let executable: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-webui-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        executable = root.appendingPathComponent("fake-swift-tune")
        try fakeExecutable.write(to: executable, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
    }

    func configuration(apiKey: String? = nil, chatOnly: Bool = false) -> WebUIConfiguration {
        WebUIConfiguration(host: "127.0.0.1", port: 0, apiKey: apiKey, rootDirectory: root, executable: executable,
                           chatOnly: chatOnly)
    }
}

/// Loads the tiny Qwen2 for the Chat tab.
@Sendable func loadTiny(_ model: String, _ adapters: String?) throws -> ServedModel {
    var inference = InferenceOptions(model: URL(fileURLWithPath: model))
    inference.system = "Be brief."
    inference.engine = EngineOptions(maxBatchSize: 2, maxModelLength: 128)
    return try ServedModel.load(ServeOptions(inference: inference, servedModelName: "tiny"), backend: CPUBackend(threadCount: 2))
}

extension TestClientProtocol {
    func post(_ uri: String, _ json: String, key: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    func get(_ uri: String, key: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await execute(uri: uri, method: .get, headers: headers)
    }
}

func json(_ response: TestResponse) throws -> JSONValue { try JSONParser.parse(String(buffer: response.body)) }

/// The web UI on an ephemeral port (a real socket): the page, the forms' flag definitions, runs as child processes
/// with their curves, the refusals, the key, and the Chat tab's streamed answers.
@Suite(.serialized) struct WebUITests {
    @Test func servesThePageFormsAndRuns() async throws {
        let fixture = try WebUIFixture()
        defer { try? FileManager.default.removeItem(at: fixture.root) }
        let (app, _) = buildWebUIApplication(configuration: fixture.configuration(), engine: ServingEngine(), loadModel: loadTiny)
        try await app.test(.live) { (client: any TestClientProtocol) async throws -> Void in
            #expect(client.port != nil && client.port != 0)
            let page = try await client.get("/")
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: page.body)
            for tab in ["tab-train", "tab-chat", "tab-export", "tab-eval"] { #expect(html.contains("id=\"\(tab)\"")) }
            #expect(html.contains("const chatOnly = false;") && !html.contains("http://") && !html.contains("https://"),
                    "the page loads nothing from the network")

            let flags = try json(try await client.get("/api/flags/sft"))
            let list = try #require(flags["flags"]?.arrayValue)
            #expect(list.compactMap { $0["name"]?.stringValue } == ["model", "lora_rank", "train_type", "dataset"])
            #expect(list[1]["default"]?.stringValue == "8" && list[2]["choices"]?.arrayValue?.count == 2)
            #expect(list[3]["is_repeating"]?.boolValue == true)
            #expect(try await client.get("/api/flags/rm").status == .notFound)

            // A value the CLI refuses: its own message, the field named.
            let refused = try await client.post("/api/runs", #"{"command": "sft", "args": [{"name": "lora_rank", "values": ["0"]}]}"#)
            #expect(refused.status == .badRequest)
            let error = try json(refused)["error"]
            #expect(error?["message"]?.stringValue == "Error: --lora_rank 0: expected a positive integer")
            #expect(error?["param"]?.stringValue == "lora_rank")

            // A path outside the root.
            let outside = try await client.post("/api/runs", #"{"command": "sft", "args": [{"name": "output_dir", "values": ["/etc"]}]}"#)
            #expect(outside.status == .forbidden)
            #expect(try await client.get("/api/curve?folder=../../etc").status == .forbidden)
            #expect(try await client.post("/api/runs", #"{"command": "rm", "args": []}"#).status == .badRequest)

            // A run: started, the second into the same folder refused, its curve grows, it finishes.
            let started = try await client.post("/api/runs",
                                                #"{"command": "sft", "args": [{"name": "output_dir", "values": ["out"]}, {"name": "max_steps", "values": ["12"]}]}"#)
            #expect(started.status == .created, "\(String(buffer: started.body))")
            let id = try #require(try json(started)["id"]?.intValue)
            let busy = try await client.post("/api/runs", #"{"command": "pt", "args": [{"name": "output_dir", "values": ["out"]}]}"#)
            #expect(busy.status == .conflict && String(buffer: busy.body).contains("output_dir_busy"))
            var seen: [Int] = []
            for _ in 0..<200 {
                let detail = try json(try await client.get("/api/runs/\(id)"))
                let points = detail["curve"]?["points"]?.arrayValue?.count ?? 0
                if seen.last != points { seen.append(points) }
                if detail["run"]?["status"]?.stringValue == "finished" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let detail = try json(try await client.get("/api/runs/\(id)"))
            #expect(detail["run"]?["status"]?.stringValue == "finished" && detail["run"]?["exit_code"]?.intValue == 0)
            #expect(detail["curve"]?["points"]?.arrayValue?.count == 12 && detail["curve"]?["progress"]?.stringValue == "12/12")
            #expect(seen.count > 2, "the curve gained points while the run ran: \(seen)")
            #expect(detail["log"]?.stringValue?.hasSuffix("step 12\nsft done\n") == true)
            let runs = try json(try await client.get("/api/runs"))["runs"]?.arrayValue
            #expect(runs?.count == 2 && runs?.first?["id"]?.intValue == id, "a reloaded page finds the runs")
            let folders = try json(try await client.get("/api/folders?dir=out"))["folders"]?.arrayValue
            #expect(folders?.first?["progress"]?.stringValue == "12/12")

            // Stop: a long run, stopped.
            let long = try json(try await client.post("/api/runs",
                                                      #"{"command": "sft", "args": [{"name": "output_dir", "values": ["long"]}, {"name": "max_steps", "values": ["500"]}]}"#))
            let longID = try #require(long["id"]?.intValue)
            #expect(try await client.post("/api/runs/\(longID)/stop", "{}").status == .ok)
            for _ in 0..<50 where try json(try await client.get("/api/runs/\(longID)"))["run"]?["exit_code"]?.isNull != false {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try json(try await client.get("/api/runs/\(longID)"))["run"]?["status"]?.stringValue == "stopped")
        }
    }

    @Test func theKeyGuardsTheAPI() async throws {
        let fixture = try WebUIFixture()
        defer { try? FileManager.default.removeItem(at: fixture.root) }
        let (app, _) = buildWebUIApplication(configuration: fixture.configuration(apiKey: "sekret"), engine: ServingEngine(),
                                             loadModel: loadTiny)
        try await app.test(.live) { (client: any TestClientProtocol) async throws -> Void in
            #expect(try await client.get("/").status == .ok, "the page itself is open; it asks for the key")
            #expect(try await client.get("/api/runs").status == .unauthorized)
            #expect(try await client.get("/api/runs", key: "wrong").status == .unauthorized)
            #expect(try await client.get("/api/runs", key: "sekret").status == .ok)
            #expect(try await client.get("/v1/models").status == .unauthorized)
        }
    }

    @Test func chatLoadsAModelAndStreams() async throws {
        let fixture = try WebUIFixture()
        defer { try? FileManager.default.removeItem(at: fixture.root) }
        let model = fixture.root.appendingPathComponent("tiny")
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("golden/qwen2"), to: model)
        let engine = ServingEngine()
        let (app, _) = buildWebUIApplication(configuration: fixture.configuration(chatOnly: true), engine: engine, loadModel: loadTiny)
        try await app.test(.live) { (client: any TestClientProtocol) async throws -> Void in
            let html = String(buffer: try await client.get("/").body)
            #expect(html.contains("const chatOnly = true;"))
            #expect(try await client.get("/api/runs").status == .notFound, "app serves the Chat tab alone")
            #expect(try await client.post("/api/chat/load", #"{"model": "/etc/passwd"}"#).status == .forbidden)
            #expect(try await client.post("/api/chat/load", #"{"model": "tiny"}"#).status == .accepted)
            var ready = false
            for _ in 0..<100 where !ready {
                ready = try await client.get("/health").status == .ok
                if !ready { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(ready)
            let answer = try await client.post("/v1/chat/completions",
                                               #"{"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "stream": true, "max_tokens": 4}"#)
            let body = String(buffer: answer.body)
            #expect(answer.status == .ok && body.contains("chat.completion.chunk") && body.hasSuffix("data: [DONE]\n\n"), "\(body)")
            #expect(try json(try await client.get("/api/chat/status"))["status"]?.stringValue == "ready")

            // A load that fails says why; the model before it keeps answering.
            #expect(try await client.post("/api/chat/load", #"{"model": "no-such-model"}"#).status == .accepted)
            var state = try json(try await client.get("/api/chat/status"))
            for _ in 0..<100 where state["status"]?.stringValue == "loading" {
                try await Task.sleep(for: .milliseconds(50))
                state = try json(try await client.get("/api/chat/status"))
            }
            #expect(state["status"]?.stringValue == "failed" && state["error"]?.stringValue?.isEmpty == false, "\(state)")
            #expect(try await client.get("/health").status == .ok)
        }
        await engine.shutdown(gracePeriod: .seconds(5))
    }
}
