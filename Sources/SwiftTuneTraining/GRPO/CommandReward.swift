import Foundation
import SwiftTuneJSON

/// `--reward_command "prog args"`: a user reward without Python inside us. The program starts once and lives for the
/// run; for each completion it reads one JSON line on stdin — `{"prompt": …, "completion": …, "completion_tokens": n,
/// "terminated": true|false, <the row's columns>}` — and answers one number per line on stdout, in order. A program
/// that exits, or answers something that is not a finite number, stops the run with the row and what it wrote.
public final class CommandReward: RewardFunction, @unchecked Sendable {
    public let name: String
    public let command: String
    private let process = Process()
    private let input = Pipe(), output = Pipe(), errors = Pipe()
    private var buffer = Data()
    private let lock = NSLock()

    /// Starts `/bin/sh -c command`.
    public init(command: String, name: String = "reward_command") throws {
        self.command = command
        self.name = name
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        signal(SIGPIPE, SIG_IGN)  // a program that exits must be an error here, not a signal that ends us
        do { try process.run() } catch {
            throw TrainingError.invalidArgument(flag: "reward_command", value: command, expected: "a program that starts (\(error))")
        }
    }

    deinit {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }

    private func stderrText() -> String {
        let data = errors.fileHandleForReading.availableData
        return String(decoding: data.prefix(2000), as: UTF8.self)
    }

    private func failure(_ what: String, _ sample: RewardSample) -> TrainingError {
        var stderr = ""
        if !process.isRunning { stderr = stderrText() }
        return .invalidArgument(
            flag: "reward_command", value: command,
            expected: "one finite number per line for each completion; \(what) for the row at \(sample.location) "
                + "(completion \(String(reflecting: String(sample.completion.prefix(120)))))"
                + (stderr.isEmpty ? "" : "; its stderr: \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"))
    }

    /// Seconds to wait for one answer before the run stops (a program that never answers must not hang it).
    public var answerTimeout: Double = 300

    /// The next line of stdout, or nil at end of file; throws after `answerTimeout` seconds without one.
    private func readLine(_ sample: RewardSample) throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                return String(decoding: line, as: UTF8.self)
            }
            var descriptor = pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, Int32(answerTimeout * 1000)) == 0 {
                throw failure("no answer within \(Int(answerTimeout)) s", sample)
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    public func rewards(_ samples: [RewardSample]) throws -> [Double] {
        try lock.withLock {
            var lines = ""
            for sample in samples { lines += sample.jsonObject.pythonJSONString() + "\n" }
            guard process.isRunning, let first = samples.first else {
                if let first = samples.first { throw failure("the program has exited (status \(process.terminationStatus))", first) }
                return []
            }
            do { try input.fileHandleForWriting.write(contentsOf: Data(lines.utf8)) } catch {
                throw failure("writing to it failed (\(error))", first)
            }
            var out: [Double] = []
            for sample in samples {
                guard let line = try readLine(sample) else {
                    process.waitUntilExit()
                    throw failure("it closed stdout (exit status \(process.terminationStatus)) after \(out.count) of \(samples.count) answers", sample)
                }
                let text = line.trimmingCharacters(in: .whitespaces)
                guard let value = Double(text), value.isFinite else { throw failure("it answered \(String(reflecting: line))", sample) }
                out.append(value)
            }
            return out
        }
    }
}
