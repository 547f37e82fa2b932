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

/// Appends records to `logging.jsonl`, one flushed line each, so a crash keeps every line written so far.
public final class TrainingLog: @unchecked Sendable {
    public let url: URL
    /// Records appended by this process.
    public private(set) var records: [LogRecord] = []
    /// Lines already in the file when it was opened (a resumed run's earlier history).
    public let earlierLines: [String]
    private let handle: FileHandle

    /// Opens `folder/logging.jsonl`, creating it or appending to it (a resumed run continues the same file).
    public init(folder: URL) throws {
        url = folder.appendingPathComponent("logging.jsonl")
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw TrainingError.unwritableOutput(path: url.path, reason: "cannot create the file")
            }
        }
        earlierLines = ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    public func append(_ record: LogRecord) throws {
        records.append(record)
        try handle.write(contentsOf: Data((record.json + "\n").utf8))
    }
}
