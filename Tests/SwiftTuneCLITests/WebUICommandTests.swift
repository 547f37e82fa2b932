import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `swift-tune web-ui` as a user runs it, on a port the system picks: the Train form's flags are `sft`'s own, a
/// 2-step run of the tiny model started from the API trains, logs its curve and finishes.
@Suite struct WebUICommandTests {
    /// Sends a request; the status and the body.
    static func call(_ port: Int, _ path: String, body: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 30
        if let body {
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func trainsFromTheAPIWithTheCommandsOwnFlags() async throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.copyItem(atPath: CLI.tinyModel, toPath: root.appendingPathComponent("tiny").path)
        let log = root.appendingPathComponent("web-ui.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = try CLI.executable
        process.arguments = ["web-ui", "--port", "0", "--root_dir", root.path]
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() }; process.waitUntilExit() }
        var port = 0
        for _ in 0..<300 where port == 0 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("web UI on http://127.0.0.1:") }) {
                port = Int(line.dropFirst("web UI on http://127.0.0.1:".count).prefix { $0.isNumber }) ?? 0
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(port > 0, "no listening line")

        let (status, flags) = try await Self.call(port, "/api/flags/sft")
        #expect(status == 200)
        #expect(flags.contains(#""name":"lora_rank""#) && flags.contains(#""name":"dataset""#) && flags.contains(#""name":"max_steps""#))

        let args = #"[{"name": "model", "values": ["tiny"]}, {"name": "dataset", "values": ["self-cognition#8"]}, "#
            + #"{"name": "model_name", "values": ["T"]}, {"name": "model_author", "values": ["L"]}, {"name": "max_length", "values": ["512"]}, "#
            + #"{"name": "max_steps", "values": ["2"]}, {"name": "lora_rank", "values": ["4"]}, {"name": "logging_steps", "values": ["1"]}, "#
            + #"{"name": "device", "values": ["cpu"]}, {"name": "output_dir", "values": ["out"]}]"#
        let (refused, message) = try await Self.call(port, "/api/runs", body: #"{"command": "sft", "args": [{"name": "lora_rank", "values": ["0"]}]}"#)
        #expect(refused == 400 && message.contains("--lora_rank 0: expected a positive integer"), "\(message)")
        let (created, run) = try await Self.call(port, "/api/runs", body: #"{"command": "sft", "args": "# + args + "}")
        #expect(created == 201, "\(run)")
        var detail = ""
        for _ in 0..<1200 {
            detail = try await Self.call(port, "/api/runs/2").1
            if !detail.contains(#""status":"running""#) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(detail.contains(#""status":"finished""#), "\(detail)")
        #expect(detail.contains(#""progress":"2/2""#) && detail.contains(#""step":2"#), "\(detail)")

        // The Eval tab: an eval run, then its report.
        let sets = CLI.root.appendingPathComponent("Tests/Fixtures/eval/custom")
        try FileManager.default.copyItem(at: sets.appendingPathComponent("qa.jsonl"), to: root.appendingPathComponent("qa.jsonl"))
        let evalArgs = #"[{"name": "model", "values": ["tiny"]}, {"name": "eval_dataset", "values": ["qa.jsonl"]}, "#
            + #"{"name": "max_new_tokens", "values": ["4"]}, {"name": "system", "values": ["Be brief."]}, {"name": "device", "values": ["cpu"]}]"#
        let (evalCreated, evalRun) = try await Self.call(port, "/api/runs", body: #"{"command": "eval", "args": "# + evalArgs + "}")
        #expect(evalCreated == 201, "\(evalRun)")
        for _ in 0..<600 {
            if !(try await Self.call(port, "/api/runs/3").1.contains(#""status":"running""#)) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let (_, reports) = try await Self.call(port, "/api/reports?dir=eval_output")
        #expect(reports.contains(#""rouge-l-f""#) && reports.contains(#""reports":[{"path":"#), "\(reports)")
    }
}
