import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `swift-tune deploy` run as a user runs it, on 127.0.0.1 with a port the system picks; always stopped.
final class DeployServerProcess {
    let process: Process
    let log: URL
    private(set) var port = 0

    init(_ arguments: [String]) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-deploy-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process = Process()
        process.executableURL = try CLI.executable
        process.arguments = ["deploy", "--host", "127.0.0.1", "--port", "0", "--device", "cpu", "--log_interval", "0"] + arguments
        process.currentDirectoryURL = CLI.root
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    deinit { stop() }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits for "listening on http://127.0.0.1:PORT", then for `/health` to answer 200 (the model has loaded).
    func waitUntilReady(timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        while port == 0 {
            try #require(process.isRunning, "the server exited: \(output)")
            try #require(ContinuousClock.now < deadline, "no listening line: \(output)")
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix("listening on http://127.0.0.1:") }) {
                port = Int(line.split(separator: ":").last ?? "") ?? 0
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        while try await status("/health") != 200 {
            try #require(process.isRunning, "the server exited: \(output)")
            try #require(ContinuousClock.now < deadline, "not healthy in time: \(output)")
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The status of a GET (0 when the server does not answer).
    func status(_ path: String) async throws -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 5
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return 0 }
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// SIGTERM, then the exit status (SIGKILL after `timeout`, and nil).
    func terminate(timeout: Duration = .seconds(20)) async -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        guard !process.isRunning else {
            stop()
            return nil
        }
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: log)
    }
}

/// Runs a program to its end or until `timeout` (then kills it); output and error together.
func runBounded(_ executable: URL, _ arguments: [String], timeout: Duration) async throws -> (status: Int32?, output: String) {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-run-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: log) }
    let handle = try FileHandle(forWritingTo: log)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = CLI.root
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    let deadline = ContinuousClock.now + timeout
    while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
    var status: Int32?
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    } else {
        status = process.terminationStatus
    }
    return (status, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
}

@Suite("swift-tune deploy, end to end", .serialized)
struct DeployCommandTests {
    static let python = CLI.root.appendingPathComponent(".cache/python/bin/python")

    /// The official `openai` Python client against the built server: chat, completions, streaming, adapters,
    /// logprobs, n, the API key and error objects (scripts/test_openai_client.py); then SIGTERM stops it cleanly.
    @Test(.timeLimit(.minutes(5))) func openAIClientAgainstTheServer() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path),
                     "\(Self.python.path) is missing: run scripts/setup_python.sh (installs openai from PyPI)")
        let server = try DeployServerProcess([
            "--model", CLI.tinyModel, "--api_key", "sk-swift-tune", "--adapters", "sw=Tests/Fixtures/lora/swift_adapter",
            "--system", "Be brief.", "--max_batch_size", "4",
        ])
        defer { server.stop() }
        try await server.waitUntilReady()
        let client = try await runBounded(Self.python, [
            "scripts/test_openai_client.py", "--base-url", "http://127.0.0.1:\(server.port)/v1", "--api-key", "sk-swift-tune",
            "--model", "qwen2", "--adapter", "sw",
        ], timeout: .seconds(180))
        #expect(client.status == 0, "openai client checks:\n\(client.output)\nserver:\n\(server.output)")
        #expect(client.output.contains("0 failed"), "\(client.output)")
        let status = await server.terminate()
        #expect(status == 0, "SIGTERM: exit \(String(describing: status))\n\(server.output)")
        #expect(server.output.contains("shutting down") && server.output.contains("stopped:"), "\(server.output)")
    }

    /// A model that cannot be loaded ends the server with the error (after it started listening).
    @Test(.timeLimit(.minutes(1))) func aModelThatFailsToLoadEndsTheServer() async throws {
        let server = try DeployServerProcess(["--model", "Tests/Fixtures/no-such-model"])
        defer { server.stop() }
        let deadline = ContinuousClock.now + .seconds(30)
        while server.process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.process.isRunning && server.process.terminationStatus != 0)
        #expect(server.output.contains("no-such-model"), "\(server.output)")
    }

    @Test func badFlagsFailBeforeServing() throws {
        let cases: [([String], String)] = [
            (["--port", "70000"], "--port"),
            (["--max_batch_size", "0"], "--max_batch_size"),
            (["--adapters", "a", "b"], "one adapter without a name"),
            (["--adapters", "=x"], "NAME=PATH"),
            (["--api_key", ""], "--api_key"),
            (["--kv_cache_tokens", "1"], "--kv_cache_tokens"),
        ]
        for (flags, needle) in cases {
            let result = try CLI.run(["deploy", "--model", CLI.tinyModel] + flags)
            #expect(result.status != 0 && result.error.contains(needle), "\(flags): \(result.error)")
        }
        let help = try CLI.run(["deploy", "--help"])
        #expect(help.status == 0 && help.output.contains("--served_model_name") && help.output.contains("--max-batch-size"))
    }
}
