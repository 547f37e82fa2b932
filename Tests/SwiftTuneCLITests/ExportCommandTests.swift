import Foundation
import Testing

/// Runs blocking work (a subprocess) on a thread of its own, so it does not hold one of Swift Testing's cooperative
/// threads that async tests of other suites need.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// `swift-tune export` as a user runs it.
@Suite struct ExportCommandTests {
    static let adapter = CLI.root.appendingPathComponent("Tests/Fixtures/lora/swift_adapter").path
    static let smolLM2 = CLI.root.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf").path

    @Test func mergesAndWritesOllamaFilesThenRefusesToOverwrite() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out").path
        let arguments = ["export", "--adapters", Self.adapter, "--model", CLI.tinyModel, "--merge_lora", "true",
                         "--to_ollama", "true", "--gguf_type", "q4_k", "--output_dir", output]
        let result = try await onOwnThread { try CLI.run(arguments) }
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("merged model: \(output)") && result.output.contains("Modelfile: \(output)/Modelfile"))
        #expect(result.output.contains("14 tensor(s) could not use q4_k") && result.output.contains("→ Q5_0"), "\(result.output)")
        let files = try FileManager.default.contentsOfDirectory(atPath: output).sorted()
        #expect(files == ["Modelfile", "args.json", "config.json", "generation_config.json", "model.gguf", "model.safetensors",
                          "tokenizer.json", "tokenizer_config.json"], "\(files)")
        let again = try await onOwnThread { try CLI.run(arguments) }
        #expect(again.status != 0 && again.error.contains("already exists") && again.error.contains("--exist_ok"), "\(again.error)")
        let replaced = try await onOwnThread { try CLI.run(arguments + ["--exist_ok", "true"]) }
        #expect(replaced.status == 0, "\(replaced.error)")
    }

    @Test func badInputIsExplained() async throws {
        let bad = try await onOwnThread { try CLI.run(["export", "--model", CLI.tinyModel, "--to_gguf", "true", "--gguf_type", "q3_k"]) }
        #expect(bad.status != 0 && bad.error.contains("--gguf_type q3_k") && bad.error.contains("q4_k"), "\(bad.error)")
        let shard = try await onOwnThread { try CLI.run(["export", "--adapters", Self.adapter, "--merge_lora", "true", "--max_shard_size", "big"]) }
        #expect(shard.status != 0 && shard.error.contains("--max_shard_size"), "\(shard.error)")
        let full = try await onOwnThread { try CLI.run(["export", "--adapters", CLI.tinyModel, "--merge_lora", "true"]) }
        #expect(full.status != 0 && full.error.contains("full fine-tuning checkpoint"), "\(full.error)")
        let nothing = try await onOwnThread { try CLI.run(["export", "--adapters", Self.adapter, "--model", CLI.tinyModel]) }
        #expect(nothing.status != 0 && nothing.error.contains("nothing to do"), "\(nothing.error)")
    }

    /// A killed export leaves no output under its final name; the next export into the same place cleans up.
    @Test func killedExportLeavesNoOutput() async throws {
        try #require(FileManager.default.fileExists(atPath: Self.smolLM2), "run scripts/fetch_test_models.sh")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out")
        let (wasRunning, left) = try await onOwnThread { () throws -> (Bool, [String]) in
            let (process, _, _) = try CLI.start(["export", "--model", Self.smolLM2, "--to_gguf", "true", "--gguf_type", "q8_0",
                                                 "--output_dir", output.path])
            // Wait until the export is writing (its staging folder exists), then kill it without warning.
            let deadline = Date().addingTimeInterval(60)
            func staging() -> Bool {
                ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).contains { $0.hasPrefix(".out.partial-") }
            }
            while Date() < deadline, process.isRunning, !staging() { Thread.sleep(forTimeInterval: 0.05) }
            Thread.sleep(forTimeInterval: 0.5)
            let running = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return (running, try FileManager.default.contentsOfDirectory(atPath: folder.path))
        }
        #expect(wasRunning, "the export finished before it could be interrupted")
        #expect(!left.contains("out") && left.allSatisfy { $0.hasPrefix(".out.partial-") }, "\(left)")
        // The next export to the same place removes the leftover staging folder.
        let tiny = try await onOwnThread { try CLI.run(["export", "--model", CLI.tinyModel, "--to_gguf", "true", "--output_dir", output.path]) }
        #expect(tiny.status == 0, "\(tiny.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out"])
    }
}
