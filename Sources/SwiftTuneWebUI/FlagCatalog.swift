import Foundation
import SwiftTuneJSON
import SwiftTuneServer

/// One flag of a subcommand as the page's form shows it: read from the command's own definitions
/// (`swift-tune CMD --experimental-dump-help`, swift-argument-parser's description of its parser), so the form
/// and the CLI cannot disagree on names, defaults, help or choices.
public struct FlagDefinition: Sendable, Equatable, Codable {
    /// The snake_case name, without dashes (`lora_rank`).
    public var name: String
    public var help: String
    public var defaultValue: String?
    /// The values it accepts, when the command lists them.
    public var choices: [String]?
    /// A switch without a value.
    public var isFlag: Bool
    /// Takes several values.
    public var isRepeating: Bool

    enum CodingKeys: String, CodingKey {
        case name, help, choices
        case defaultValue = "default"
        case isFlag = "is_flag"
        case isRepeating = "is_repeating"
    }
}

/// The subcommands the page may start, and their flags (read once per command).
public final class FlagCatalog: @unchecked Sendable {
    /// What the page starts as runs.
    public static let commands = ["sft", "pt", "rlhf", "export", "eval"]

    let executable: URL
    private var cache: [String: [FlagDefinition]] = [:]
    private let lock = NSLock()

    public init(executable: URL) {
        self.executable = executable
    }

    /// The flags of `command` (one of `commands`).
    public func flags(of command: String) throws -> [FlagDefinition] {
        guard Self.commands.contains(command) else {
            throw OpenAIError(status: 404, message: "no form for '\(command)': expected one of \(Self.commands.joined(separator: ", "))",
                              type: "invalid_request_error", param: "command")
        }
        if let cached = lock.withLock({ cache[command] }) { return cached }
        let process = Process()
        process.executableURL = executable
        process.arguments = [command, "--experimental-dump-help"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw OpenAIError(status: 500, message: "cannot run \(executable.path): \(error)", type: "server_error")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let flags = try Self.parse(data, command: command)
        lock.withLock { cache[command] = flags }
        return flags
    }

    /// Reads swift-argument-parser's help dump (`command.arguments[]`): options and flags that are shown in help,
    /// without `help` and `version`.
    static func parse(_ data: Data, command: String) throws -> [FlagDefinition] {
        let root: JSONValue
        do { root = try JSONParser.parse(data) } catch {
            throw OpenAIError(status: 500, message: "\(command) --experimental-dump-help: not JSON (\(error))", type: "server_error")
        }
        guard let arguments = root["command"]?["arguments"]?.arrayValue else {
            throw OpenAIError(status: 500, message: "\(command) --experimental-dump-help: no command.arguments", type: "server_error")
        }
        return arguments.compactMap { argument -> FlagDefinition? in
            guard argument["shouldDisplay"]?.boolValue != false,
                  let kind = argument["kind"]?.stringValue, kind == "option" || kind == "flag",
                  let name = argument["preferredName"]?["name"]?.stringValue, name != "help", name != "version" else {
                return nil
            }
            return FlagDefinition(name: name, help: argument["abstract"]?.stringValue ?? "",
                                  defaultValue: argument["defaultValue"]?.stringValue,
                                  choices: argument["allValues"]?.arrayValue?.compactMap(\.stringValue),
                                  isFlag: kind == "flag", isRepeating: argument["isRepeating"]?.boolValue ?? false)
        }
    }
}
