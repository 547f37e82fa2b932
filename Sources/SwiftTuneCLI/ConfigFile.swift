import Foundation
import Yams

/// `swift-tune sft cfg.yaml --lora_rank 16`: a YAML or JSON file of ms-swift flags (snake_case keys) turned into
/// command-line arguments placed before the real ones, so every flag given on the command line overrides the
/// file. Lists become multi-value flags (`dataset: [a.jsonl, b.jsonl]`).
public enum ConfigFile {
    public enum Problem: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case notAMapping(path: String)
        case unsupportedValue(path: String, key: String, got: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason): "\(path): cannot read the config file: \(reason)"
            case let .notAMapping(path): "\(path): expected a mapping of flag names to values (e.g. `lora_rank: 8`)"
            case let .unsupportedValue(path, key, got):
                "\(path): key \"\(key)\": expected a string, number, boolean or list of those, got \(got)"
            }
        }
    }

    /// Whether `argument` names a config file (`.yaml`, `.yml`, `.json`) rather than a flag value.
    public static func isConfigPath(_ argument: String) -> Bool {
        !argument.hasPrefix("-") && [".yaml", ".yml", ".json"].contains { argument.lowercased().hasSuffix($0) }
    }

    /// The subcommand's arguments with config files expanded: `[sft, cfg.yaml, --x, 1]` → `[sft, --k, v, …, --x, 1]`.
    /// Only the first positional argument after the subcommand is taken as a config file.
    public static func expand(_ arguments: [String]) throws -> [String] {
        guard arguments.count >= 2, isConfigPath(arguments[1]) else { return arguments }
        let path = arguments[1]
        let rest = Array(arguments.dropFirst(2))
        let given = Set(rest.filter { $0.hasPrefix("--") }.map { normalize(String($0.dropFirst(2)).split(separator: "=")[0]) })
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Problem.unreadable(path: path, reason: error.localizedDescription)
        }
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch { throw Problem.unreadable(path: path, reason: "\(error)") }
        guard let mapping = loaded as? [String: Any] else { throw Problem.notAMapping(path: path) }
        var expanded = [arguments[0]]
        for key in mapping.keys.sorted() where !given.contains(normalize(key)) {
            let values = try strings(mapping[key] as Any, path: path, key: key)
            expanded.append("--" + normalize(key))
            expanded += values
        }
        return expanded + rest
    }

    static func normalize(_ key: some StringProtocol) -> String { key.replacingOccurrences(of: "-", with: "_") }

    static func strings(_ value: Any, path: String, key: String) throws -> [String] {
        switch value {
        case let list as [Any]: return try list.flatMap { try strings($0, path: path, key: key) }
        case let flag as Bool: return [flag ? "true" : "false"]
        case let number as Int: return [String(number)]
        case let number as Double: return [String(number)]
        case let text as String: return [text]
        case let mapping as [String: Any]:
            // e.g. `columns: {text: query}` → its JSON text.
            let data = try JSONSerialization.data(withJSONObject: mapping, options: [.sortedKeys])
            return [String(decoding: data, as: UTF8.self)]
        default: throw Problem.unsupportedValue(path: path, key: key, got: "\(type(of: value))")
        }
    }
}
