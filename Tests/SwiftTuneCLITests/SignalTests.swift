import Foundation
import Synchronization
import Testing

/// A child process whose output is collected as it comes, so a test can wait for a line, signal it, and time its exit.
final class ChildProcess: @unchecked Sendable {
    /// Standard output and error so far (a class, so the pipes' handlers can share it).
    final class Collected: Sendable {
        let text = Mutex<(out: String, err: String)>(("", ""))
    }

    let process = Process()
    private let output = Collected()

    init(_ executable: URL, _ arguments: [String]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = CLI.root
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [output] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.text.withLock { $0.out += text }
        }
        err.fileHandleForReading.readabilityHandler = { [output] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.text.withLock { $0.err += text }
        }
        try process.run()
    }

    var standardOutput: String { output.text.withLock { $0.out } }
    var standardError: String { output.text.withLock { $0.err } }

    /// Waits until `condition` holds (true) or `seconds` pass (false).
    func wait(seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// Waits for `text` on standard output.
    func waitForOutput(_ text: String, seconds: Double) -> Bool {
        wait(seconds: seconds) { standardOutput.contains(text) || !process.isRunning }
            && standardOutput.contains(text)
    }

    /// Waits for the exit; the seconds it took, or nil (and the process killed) when it did not exit in time.
    func waitForExit(seconds: Double) -> Double? {
        let start = Date()
        guard wait(seconds: seconds, until: { !process.isRunning }) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        usleep(100_000)  // the last output
        return Date().timeIntervalSince(start)
    }

    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }
}

/// Real signals sent to real child processes: the training loop's StopSignal through a probe (deterministic phases)
/// and through `swift-tune sft`. Bounds are generous (a loaded 2-core CI machine): what matters is that the process
/// exits at all, with the right status, and what it leaves on disk.
@Suite(.serialized) struct SignalTests {
    static var probe: URL {
        get throws {
            let candidates = [Bundle.main.bundleURL.deletingLastPathComponent(), CLI.root.appendingPathComponent(".build/debug")]
                .map { $0.appendingPathComponent("swift-tune-signal-probe") }
            return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                                "build swift-tune-signal-probe first (swift build --build-tests)")
        }
    }

    @Test func aFirstSignalThatReachesNoSafePointExitsAfterTheGracePeriod() throws {
        let child = try ChildProcess(try Self.probe, ["busy", "1"])
        #expect(child.waitForOutput("ready", seconds: 60))
        child.send(SIGTERM)
        let took = try #require(child.waitForExit(seconds: 30), "the probe ignored SIGTERM during a long step: \(child.standardOutput) | \(child.standardError)")
        #expect(took >= 0.5, "it exited before the 1 s grace period: \(took) s")
        #expect(child.process.terminationStatus == 128 + SIGTERM)
        #expect(child.standardError.contains("no safe point was reached within 1 s of SIGTERM"), "\(child.standardError)")
    }

    @Test func aSecondSignalExitsAtOnce() throws {
        let child = try ChildProcess(try Self.probe, ["busy", "600"])
        #expect(child.waitForOutput("ready", seconds: 60))
        child.send(SIGINT)
        #expect(child.wait(seconds: 20) { child.standardError.contains("stopping at the next safe point") })
        child.send(SIGINT)
        #expect(try #require(child.waitForExit(seconds: 20), "a second SIGINT did not end the probe") < 20)
        #expect(child.process.terminationStatus == 128 + SIGINT)
        #expect(child.standardError.contains("a second SIGINT arrived"), "\(child.standardError)")
    }

    @Test func aSaveAfterTheSafePointIsNotCutShortByTheGracePeriod() throws {
        let child = try ChildProcess(try Self.probe, ["safe", "3", "5"])
        #expect(child.waitForOutput("ready", seconds: 60))
        child.send(SIGTERM)
        #expect(try #require(child.waitForExit(seconds: 60)) > 0)
        #expect(child.process.terminationStatus == 0, "\(child.standardError)")
        #expect(child.standardOutput.contains("saved"))
    }

    @Test func anExitDuringASaveKeepsTheLastCompleteCheckpoint() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let child = try ChildProcess(try Self.probe, ["save", folder.path])
        #expect(child.waitForOutput("ready", seconds: 60))
        child.send(SIGTERM)
        #expect(child.wait(seconds: 20) { child.standardError.contains("stopping") })
        child.send(SIGTERM)
        #expect(try #require(child.waitForExit(seconds: 20)) < 20)
        #expect(child.process.terminationStatus == 128 + SIGTERM)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.contains("checkpoint-1") && !names.contains("checkpoint-2"), "\(names)")
        #expect(names.contains { $0.hasPrefix(".checkpoint-2.partial-") }, "the unfinished save is hidden: \(names)")
        let weights = try String(contentsOf: folder.appendingPathComponent("checkpoint-1/weights"), encoding: .utf8)
        #expect(weights == "complete")
    }

    @Test func sftSavesACheckpointAtTheNextStepAfterSIGTERM() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let child = try ChildProcess(try CLI.executable, [
            "sft", "--model", CLI.tinyModel, "--dataset", "self-cognition#8", "--model_name", "Tiny",
            "--model_author", "Lab", "--max_length", "512", "--device", "cpu", "--lora_rank", "4", "--max_steps", "1000000",
            "--save_steps", "1000000", "--logging_steps", "1", "--gradient_accumulation_steps", "1", "--output_dir", output.path, "--add_version", "false",
        ])
        #expect(child.waitForOutput("global_step/max_steps", seconds: 300), "\(child.standardError)")
        child.send(SIGTERM)
        #expect(try #require(child.waitForExit(seconds: 60), "sft ignored SIGTERM") < 60)
        #expect(child.process.terminationStatus == 0, "\(child.standardError)")
        #expect(child.standardOutput.contains("by a signal"), "\(child.standardOutput)")
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path)
        let checkpoints = names.filter { $0.hasPrefix("checkpoint-") }
        #expect(checkpoints.count == 1 && !names.contains { $0.hasPrefix(".checkpoint-") }, "\(names)")
        if let checkpoint = checkpoints.first {
            let files = try FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent(checkpoint).path)
            #expect(files.contains("adapter_model.safetensors") && files.contains("trainer_state.json"), "\(files)")
        }
    }
}
