import Foundation
import SwiftTuneJSON

/// A position in a parsed JSON document that remembers its file and key path, so every type mismatch or missing
/// key becomes a `TokenizerError` naming both.
struct JSONCursor {
    let file: String
    let path: String
    /// The value here; nil when the key is absent.
    let value: JSONValue?

    /// How tokenizer files are parsed: Python's `json` (tokenizer_config.json comes from Python), with repeated
    /// keys left in place; lookups and the vocabulary take the last, as before.
    static let parserOptions: JSONParser.Options = {
        var options = JSONParser.Options.python
        options.duplicateKeys = .keepAll  // a 150k-entry vocabulary needs no index of its keys
        return options
    }()

    /// Parses `data` (the contents of `file`).
    static func parse(_ data: Data, file: String) throws -> JSONCursor {
        do {
            return JSONCursor(file: file, path: "$", value: try JSONParser.parse(data, options: parserOptions))
        } catch {
            throw TokenizerError.invalidJSON(file: file, detail: error.description)
        }
    }

    subscript(key: String) -> JSONCursor {
        let child = path == "$" ? key : "\(path).\(key)"
        return JSONCursor(file: file, path: child, value: value?[key])
    }

    /// Absent or JSON null.
    var isNull: Bool { value?.isNull ?? true }

    /// A short description of the JSON type of the value, for errors.
    var typeName: String {
        switch value {
        case nil: "nothing (key absent)"
        case .null?: "null"
        case let .string(string)?: "string \(String(reflecting: String(string.prefix(60))))"
        case let .number(number)?: "number \(number)"
        case let .bool(flag)?: "boolean \(flag)"
        case .array?: "an array"
        case .object?: "an object"
        }
    }

    func mismatch(_ expected: String) -> TokenizerError {
        .invalidValue(file: file, path: path, expected: expected, got: typeName)
    }

    func missing(_ hint: String = "the file may come from a newer tokenizers version or be incomplete") -> TokenizerError {
        .missingKey(file: file, path: path, hint: hint)
    }

    func string() throws -> String {
        if value == nil { throw missing() }
        guard let string = value?.stringValue else { throw mismatch("a string") }
        return string
    }

    func optionalString() throws -> String? { isNull ? nil : try string() }

    /// An integer, also when written as a float (`3.0`).
    func int() throws -> Int {
        if value == nil { throw missing() }
        guard let int = value?.integralValue else { throw mismatch("an integer") }
        return int
    }

    func optionalInt() throws -> Int? { isNull ? nil : try int() }

    func bool(default defaultValue: Bool) throws -> Bool {
        if isNull { return defaultValue }
        guard let flag = value?.boolValue else { throw mismatch("a boolean") }
        return flag
    }

    func array() throws -> [JSONCursor] {
        if value == nil { throw missing() }
        guard let array = value?.arrayValue else { throw mismatch("an array") }
        return array.enumerated().map { JSONCursor(file: file, path: "\(path)[\($0.offset)]", value: $0.element) }
    }

    /// The members in file order (a repeated key appears each time; the last one counts).
    func object() throws -> [JSONMember] {
        if value == nil { throw missing() }
        guard let members = value?.objectMembers else { throw mismatch("an object") }
        return members
    }
}
