import Foundation
import SwiftTuneRunFiles
import SwiftTuneServer

/// One run the page started: a `swift-tune` child process, its output going to a log file.
public struct RunInfo: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case running, finished, failed, stopped
    }

    public var id: Int
    public var command: String
    public var arguments: [String]
    /// The folder its `--output_dir` (or `--eval_output_dir`) names, inside the root.
    public var outputDirectory: String
    public var status: Status
    public var exitCode: Int32?
    /// Seconds since 1970.
    public var started: Double
    public var logFile: String
    public var pid: Int32

    enum CodingKeys: String, CodingKey {
        case id, command, arguments, status, started, pid
        case outputDirectory = "output_dir"
        case exitCode = "exit_code"
        case logFile = "log_file"
    }
}

/// The runs of this server: child processes of `swift-tune`, so a closed browser never stops one and a reloaded
/// page finds them again (`GET /api/runs`). Two running runs never share an output folder.
public final class RunManager: @unchecked Sendable {
    let executable: URL
    let guardrail: RootGuard
    let logFolder: URL
    private var runs: [RunInfo] = []
    private var processes: [Int: Process] = [:]
    private var acceptedMarkers: [Int: URL] = [:]
    private let lock = NSLock()

    /// The environment variable naming the file a `swift-tune` child creates once its flags are parsed and
    /// validated, so a refused flag is told from a slow start however loaded the machine is.
    public static let acceptedMarkerVariable = "SWIFT_TUNE_ARGUMENTS_ACCEPTED"

    public init(executable: URL, guardrail: RootGuard) {
        self.executable = executable
        self.guardrail = guardrail
        logFolder = guardrail.root.appendingPathComponent(".swift-tune-webui/logs")
    }

    /// Every run, newest first.
    public var all: [RunInfo] { lock.withLock { runs.reversed() } }

    public func run(_ id: Int) throws -> RunInfo {
        guard let run = lock.withLock({ runs.first { $0.id == id } }) else {
            throw OpenAIError(status: 404, message: "no run \(id)", type: "invalid_request_error", param: "id")
        }
        return run
    }

    /// Starts `swift-tune command arguments…` in the root folder. `outputFlag` names the flag whose value is the
    /// run's folder; every path-like value must lie inside the root. A second run into a folder that a running run
    /// writes is refused (409).
    public func start(command: String, arguments: [(name: String, values: [String])]) throws -> RunInfo {
        guard FlagCatalog.commands.contains(command) else {
            throw OpenAIError(status: 400, message: "command '\(command)': expected one of \(FlagCatalog.commands.joined(separator: ", "))",
                              type: "invalid_request_error", param: "command")
        }
        var argv = [command]
        var output: URL?
        for (name, values) in arguments {
            guard name.range(of: #"^[a-z][a-z0-9_]*$"#, options: .regularExpression) != nil else {
                throw OpenAIError(status: 400, message: "flag name '\(name)': expected snake_case letters and digits",
                                  type: "invalid_request_error", param: name)
            }
            // Path-like values, and any value naming something in the root (a symbolic link there may lead out).
            for value in values where RootGuard.isPathArgument(name: name, value: value)
                || FileManager.default.fileExists(atPath: guardrail.root.appendingPathComponent(value).path) {
                let url = try guardrail.resolve(value, field: name)
                if name == "output_dir" || name == "eval_output_dir" { output = url }
            }
            argv.append("--\(name)")
            argv += values
        }
        let defaultOutput = command == "eval" ? "eval_output" : "output"
        let folder = try output ?? guardrail.resolve(defaultOutput, field: "output_dir")
        try FileManager.default.createDirectory(at: logFolder, withIntermediateDirectories: true)
        return try lock.withLock {
            if let busy = runs.first(where: { $0.status == .running && $0.outputDirectory == folder.path }) {
                throw OpenAIError(status: 409, message: "run \(busy.id) (\(busy.command)) is writing to \(folder.path); "
                                      + "stop it or choose another output_dir", type: "invalid_request_error",
                                  param: "output_dir", code: "output_dir_busy")
            }
            let id = (runs.last?.id ?? 0) + 1
            let log = logFolder.appendingPathComponent("run-\(id)-\(command).log")
            guard FileManager.default.createFile(atPath: log.path, contents: nil),
                  let handle = try? FileHandle(forWritingTo: log) else {
                throw OpenAIError(status: 500, message: "cannot create \(log.path)", type: "server_error")
            }
            let process = Process()
            process.executableURL = executable
            process.arguments = argv
            process.currentDirectoryURL = guardrail.root
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            let marker = log.appendingPathExtension("accepted")
            try? FileManager.default.removeItem(at: marker)
            var environment = ProcessInfo.processInfo.environment
            environment[Self.acceptedMarkerVariable] = marker.path
            process.environment = environment
            process.terminationHandler = { [weak self] finished in
                try? handle.close()
                self?.ended(id, code: finished.terminationStatus, signalled: finished.terminationReason == .uncaughtSignal)
            }
            do { try process.run() } catch {
                throw OpenAIError(status: 500, message: "cannot start \(executable.path): \(error)", type: "server_error")
            }
            let info = RunInfo(id: id, command: command, arguments: Array(argv.dropFirst()), outputDirectory: folder.path,
                               status: .running, exitCode: nil, started: Date().timeIntervalSince1970,
                               logFile: log.path, pid: process.processIdentifier)
            runs.append(info)
            processes[id] = process
            acceptedMarkers[id] = marker
            return info
        }
    }

    private func ended(_ id: Int, code: Int32, signalled: Bool) {
        lock.withLock {
            guard let index = runs.firstIndex(where: { $0.id == id }) else { return }
            runs[index].exitCode = code
            if runs[index].status == .running {
                runs[index].status = signalled ? .stopped : (code == 0 ? .finished : .failed)
            }
            processes[id] = nil
        }
    }

    /// Sends SIGTERM (the trainer saves a checkpoint and stops at the next step).
    public func stop(_ id: Int) throws -> RunInfo {
        try lock.withLock {
            guard let index = runs.firstIndex(where: { $0.id == id }) else {
                throw OpenAIError(status: 404, message: "no run \(id)", type: "invalid_request_error", param: "id")
            }
            if let process = processes[id], process.isRunning {
                runs[index].status = .stopped
                process.terminate()
            }
            return runs[index]
        }
    }

    /// The last `bytes` of a run's log.
    public func logTail(_ id: Int, bytes: Int = 16 << 10) throws -> String {
        let run = try run(id)
        guard let handle = FileHandle(forReadingAtPath: run.logFile) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > UInt64(bytes) ? size - UInt64(bytes) : 0)
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }

    /// Waits for a run to leave `running`, or for its child to have accepted its flags and run for `grace`
    /// (so a failure right at the start, such as a missing file, still shows); gives up after `timeout`. Returns
    /// the run as it is then.
    public func settle(_ id: Int, grace: Duration, timeout: Duration) async throws -> RunInfo {
        let start = ContinuousClock.now
        let marker = lock.withLock { acceptedMarkers[id] }
        while ContinuousClock.now - start < timeout {
            let info = try run(id)
            if info.status != .running { return info }
            if ContinuousClock.now - start >= grace, marker.map({ FileManager.default.fileExists(atPath: $0.path) }) ?? true {
                return info
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try run(id)
    }
}
