import Foundation
import Testing

/// The README's commands, as written: every `swift-tune …` line of its `sh` blocks is checked, so the README cannot
/// drift from the tool. A command whose files are all in the repository (the tiny model, `examples/`, the test
/// models under `.cache/`) runs for real, with a step budget of 2 and outputs in a scratch folder; one with a
/// placeholder (`path/to/model`, `CKPT`, a run folder it did not make), a server, a download or a URL is parsed and
/// validated only (`SWIFT_TUNE_PARSE_ONLY=1`), which still catches a misspelt or removed flag.
@Suite struct ReadmeCommandTests {
    /// One README command: its arguments after `swift-tune`, and the README line it starts on.
    struct Command: CustomStringConvertible {
        var arguments: [String]
        var line: Int
        var description: String { "README.md:\(line): swift-tune \(arguments.joined(separator: " "))" }
    }

    /// Splits a shell line into words: single and double quotes, `$NAME` from `variables`, a `#` comment after a space.
    static func words(_ text: String, variables: [String: String]) -> [String] {
        var words: [String] = [], current = "", quote: Character?, inWord = false
        var index = text.startIndex
        func flush() { if inWord { words.append(current) }; current = ""; inWord = false }
        while index < text.endIndex {
            let c = text[index]
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c; inWord = true
            } else if c == " " || c == "\t" {
                flush()
            } else if c == "#", !inWord {
                break
            } else if c == "$" {
                let name = text[text.index(after: index)...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                if !name.isEmpty, let value = variables[String(name)] {
                    flush()
                    words += Self.words(value, variables: variables)
                    index = text.index(index, offsetBy: name.count + 1)
                    continue
                }
                current.append(c); inWord = true
            } else {
                current.append(c); inWord = true
            }
            index = text.index(after: index)
        }
        flush()
        return words
    }

    /// The `swift-tune` commands of the README's `sh` blocks, continuation lines joined, `NAME="…"` assignments
    /// expanded where a later command uses `$NAME`.
    static func readmeCommands() throws -> [Command] {
        let lines = try String(contentsOf: CLI.root.appendingPathComponent("README.md"), encoding: .utf8)
            .components(separatedBy: "\n")
        var commands: [Command] = [], variables: [String: String] = [:]
        var inBlock = false, pending = "", start = 0
        for (number, raw) in lines.enumerated() {
            if raw.hasPrefix("```") { inBlock = raw == "```sh" || raw == "```bash"; pending = ""; continue }
            guard inBlock else { continue }
            if pending.isEmpty { start = number + 1 }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\\") { pending += line.dropLast() + " "; continue }
            let whole = pending + line
            pending = ""
            if let match = whole.firstMatch(of: #/^([A-Z_]+)="(.*)"$/#) {
                variables[String(match.output.1)] = String(match.output.2)
                continue
            }
            let words = Self.words(whole, variables: variables)
            if words.first == "swift-tune" { commands.append(Command(arguments: Array(words.dropFirst()), line: start)) }
        }
        return commands
    }

    /// Flags whose value is a file or folder the command writes.
    static let outputFlags: Set<String> = ["--output_dir", "--result_path", "--eval_output_dir", "--output_file"]

    /// Why a command is only parsed, or nil when it runs: each word that names a file must be in the repository.
    static func whyParseOnly(_ command: Command) -> String? {
        let arguments = command.arguments
        guard let subcommand = arguments.first else { return "no subcommand" }
        if ["deploy", "web-ui", "app"].contains(subcommand) { return "a server" }
        if subcommand == "download" { return "a download" }
        if arguments.contains(where: { $0.hasPrefix("http") }) { return "a URL" }
        if arguments.contains("--device") && arguments.contains("cuda") { return "needs a GPU" }
        for (index, word) in arguments.enumerated().dropFirst() {
            if index > 0, Self.outputFlags.contains(arguments[index - 1]) { continue }
            if word.hasPrefix("-") || word.hasPrefix("self-cognition") { continue }
            let path = String(word.split(separator: "#").first ?? "")
            let looksLikePath = path.contains("/") || [".json", ".jsonl", ".gguf", ".yaml", ".csv", ".py"].contains { path.hasSuffix($0) }
                || ["CKPT", "DIR"].contains(path)
            if looksLikePath, !FileManager.default.fileExists(atPath: CLI.root.appendingPathComponent(path).path) {
                return "\(word) is a placeholder or a hub id"
            }
        }
        return nil
    }

    /// The command with a 2-step budget (no accumulation, completions of at most 32 tokens) where it trains.
    static func budgeted(_ arguments: [String]) -> [String] {
        var arguments = arguments
        for flag in ["--max_completion_length", "--max_new_tokens"] {
            if let index = arguments.firstIndex(of: flag), index + 1 < arguments.count, let n = Int(arguments[index + 1]), n > 32 {
                arguments[index + 1] = "32"
            }
        }
        for (flag, value) in [("--max_steps", "2"), ("--gradient_accumulation_steps", "1")] {
            if let index = arguments.firstIndex(of: flag), index + 1 < arguments.count {
                arguments[index + 1] = value
            } else if ["sft", "pt", "rlhf"].contains(arguments.first ?? "") {
                arguments += [flag, value]
            }
        }
        return arguments
    }

    /// Runs `arguments` in `folder` (the repository's inputs linked in), stdin closed; the status and output.
    static func run(_ arguments: [String], in folder: URL, parseOnly: Bool) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = try CLI.executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_TUNE_PARSE_ONLY"] = parseOnly ? "1" : nil
        environment["PATH"] = try CLI.executable.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        let log = folder.appendingPathComponent(".command.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    @Test func everyReadmeCommandParsesAndTheRunnableOnesRun() throws {
        let commands = try Self.readmeCommands()
        try #require(commands.count >= 40, "found only \(commands.count) README commands: is the parser broken?")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["Tests", "examples", "scripts", ".cache"] {
            try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(name),
                                                       withDestinationURL: CLI.root.appendingPathComponent(name))
        }
        var ran = 0
        for command in commands where !command.arguments.contains("...") {  // `sft ... --resume_from_checkpoint`: a sketch
            if let reason = Self.whyParseOnly(command) {
                let (status, output) = try Self.run(command.arguments, in: folder, parseOnly: true)
                // A placeholder file may be refused by validation; a flag the tool does not know never may.
                let unknown = ["Unknown option", "Unexpected argument", "Missing value for", "unknown subcommand"]
                #expect(status == 0 || !unknown.contains { output.contains($0) },
                        "\(command) (parse only: \(reason)) was refused:\n\(output)")
            } else {
                let (status, output) = try Self.run(Self.budgeted(command.arguments), in: folder, parseOnly: false)
                #expect(status == 0, "\(command) failed with status \(status):\n\(output.suffix(3000))")
                ran += 1
            }
        }
        #expect(ran >= 15, "only \(ran) README commands ran for real")
        print("README commands: \(commands.count), \(ran) run, \(commands.count - ran) parsed only")
    }
}
