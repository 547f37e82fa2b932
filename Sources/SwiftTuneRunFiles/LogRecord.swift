import Foundation
import SwiftTuneJSON

/// One line of `logging.jsonl`, with its keys in the order ms-swift writes them.
public struct LogRecord: Sendable, Equatable, CustomStringConvertible {
    public enum Value: Sendable, Equatable {
        case number(Double)
        case integer(Int)
        case text(String)
    }

    public private(set) var entries: [(key: String, value: Value)] = []

    public init() {}

    public static func == (lhs: LogRecord, rhs: LogRecord) -> Bool {
        lhs.entries.map(\.key) == rhs.entries.map(\.key) && lhs.entries.map(\.value) == rhs.entries.map(\.value)
    }

    /// Sets `key`, keeping its first position; numbers are rounded to 8 decimals as ms-swift does.
    public mutating func set(_ key: String, _ value: Value) {
        let stored: Value = if case let .number(x) = value { .number((x * 1e8).rounded() / 1e8) } else { value }
        if let i = entries.firstIndex(where: { $0.key == key }) { entries[i].value = stored } else { entries.append((key, stored)) }
    }

    public mutating func set(_ key: String, _ value: Double) { set(key, .number(value)) }
    public mutating func set(_ key: String, _ value: Int) { set(key, .integer(value)) }
    public mutating func set(_ key: String, _ value: String) { set(key, .text(value)) }

    public subscript(key: String) -> Value? { entries.first { $0.key == key }?.value }

    /// The number stored under `key`, if any.
    public func number(_ key: String) -> Double? {
        switch self[key] {
        case let .number(x): x
        case let .integer(n): Double(n)
        default: nil
        }
    }

    /// One JSON object on one line, as Python's `json.dumps` writes it (floats in `repr` form; a non-finite
    /// number as `null`).
    public var json: String {
        "{" + entries.map { "\(JSONText.quoted($0.key)): \(Self.render($0.value))" }.joined(separator: ", ") + "}"
    }

    public var description: String { json }

    /// The record as an ordered JSON object (a non-finite number as `null`), e.g. for `trainer_state.json`'s
    /// `log_history`.
    public var jsonValue: JSONValue {
        .object(entries.map { key, value in
            let json: JSONValue = switch value {
            case let .integer(n): .number(JSONNumber(n))
            case let .text(s): .string(s)
            case let .number(x): x.isFinite ? .number(JSONNumber(x)) : .null
            }
            return JSONMember(key: key, value: json)
        })
    }

    /// Reads one line of `logging.jsonl` back: a JSON object of numbers, strings and nulls (a non-finite number
    /// written as `null` reads as NaN), keys in the line's order. `path` names the file and line in errors.
    public init(line: String, path: String) throws(RunFileError) {
        let root: JSONValue
        do { root = try JSONParser.parse(line, options: .python) } catch {
            throw .unreadable(path: path, reason: "not JSON: \(error.message)", hint: "each line of logging.jsonl is one JSON object")
        }
        try self.init(json: root, path: path)
    }

    /// A record from a parsed JSON object (a `logging.jsonl` line, a `log_history` entry).
    public init(json: JSONValue, path: String) throws(RunFileError) {
        guard let members = json.objectMembers else {
            throw .unreadable(path: path, reason: "is \(json.typeDescription), not a JSON object",
                              hint: "each line of logging.jsonl is one JSON object")
        }
        for member in members {
            switch member.value {
            case let .number(number):
                if let n = number.intValue { entries.append((member.key, .integer(n))) } else {
                    entries.append((member.key, .number(number.doubleValue)))
                }
            case let .string(text): entries.append((member.key, .text(text)))
            case .null: entries.append((member.key, .number(.nan)))
            default:
                throw .wrongType(path: path, key: member.key, expected: "a number, a string or null",
                                 got: member.value.summary)
            }
        }
    }

    /// The step of a training record, from `global_step/max_steps` (`"12/100"`).
    public var step: Int? {
        guard case let .text(progress)? = self["global_step/max_steps"] else { return nil }
        return progress.split(separator: "/").first.flatMap { Int($0) }
    }

    static func render(_ value: Value) -> String {
        switch value {
        case let .integer(n): String(n)
        case let .text(s): JSONText.quoted(s)
        case let .number(x): x.isFinite ? JSONText.pythonFloat(x) : "null"
        }
    }

    /// ms-swift's duration format: `3s`, `18m 42s`, `9h 30m 16s`, `2d 3h 4m 5s`.
    public static func duration(_ seconds: Double) -> String {
        var rest = Int(max(0, seconds).rounded())
        let days = rest / 86_400; rest %= 86_400
        let hours = rest / 3600; rest %= 3600
        let minutes = rest / 60, secs = rest % 60
        var parts: [String] = []
        if days > 0 { parts.append("\(days)d") }
        if hours > 0 || !parts.isEmpty { parts.append("\(hours)h") }
        if minutes > 0 || !parts.isEmpty { parts.append("\(minutes)m") }
        parts.append("\(secs)s")
        return parts.joined(separator: " ")
    }
}
