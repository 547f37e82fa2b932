import Foundation
import SwiftTuneJSON

/// Typed access to one JSON object of a config file, with errors that name the file and the dotted key
/// (`config.json: "rope_scaling.factor" must be a number, got "8"`).
///
/// The file is read as Python's `json` reads it (``JSONParser/Options/python``). `null` reads as absent, as it
/// does for Hugging Face configs. A repeated key takes the last value, as in Python, but stays in `members`,
/// where a caller may refuse it. Integers may be written as floats (`1.0e4`), since some exporters do.
public struct ConfigObject: Sendable {
    public let path: String
    /// Prefix for keys in messages: "" at the top level, "rope_scaling." inside that object.
    public let prefix: String
    /// Every member in file order, repeated keys included.
    public let members: [JSONMember]
    private let fields: [String: JSONValue]

    init(members: [JSONMember], path: String, prefix: String) {
        self.members = members
        self.path = path
        self.prefix = prefix
        fields = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// How config files are parsed: Python's `json`, but repeated keys kept for ``members``.
    static let parserOptions: JSONParser.Options = {
        var options = JSONParser.Options.python
        options.duplicateKeys = .keepAll
        return options
    }()

    /// Parses `data` as a JSON document whose top level must be an object.
    public static func root(_ data: Data, path: String) throws(CheckpointError) -> ConfigObject {
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(data, options: parserOptions)
        } catch {
            throw .invalidValue(path: path, key: "(file)", reason: "is not valid JSON: \(error)")
        }
        guard case let .object(members) = parsed else {
            throw .wrongType(path: path, key: "(file)", expected: "a JSON object", got: parsed.summary)
        }
        return ConfigObject(members: members, path: path, prefix: "")
    }

    /// The full key for messages.
    public func key(_ name: String) -> String { prefix + name }

    /// The value of `name`, nil when absent or `null`.
    public func value(_ name: String) -> JSONValue? {
        switch fields[name] {
        case nil, .null?: nil
        case let value?: value
        }
    }

    /// Whether `name` is missing altogether (`null` counts as present: an explicit "none").
    public func isAbsent(_ name: String) -> Bool { fields[name] == nil }

    /// Whether `name` is present and not `null`.
    public func has(_ name: String) -> Bool { value(name) != nil }

    public func int(_ name: String) throws(CheckpointError) -> Int? {
        guard let value = value(name) else { return nil }
        guard let number = value.integralValue else {
            throw .wrongType(path: path, key: key(name), expected: "an integer", got: value.summary)
        }
        return number
    }

    public func double(_ name: String) throws(CheckpointError) -> Double? {
        guard let value = value(name) else { return nil }
        guard let number = value.doubleValue, number.isFinite else {
            throw .wrongType(path: path, key: key(name), expected: "a number", got: value.summary)
        }
        return number
    }

    public func bool(_ name: String) throws(CheckpointError) -> Bool? {
        guard let value = value(name) else { return nil }
        guard case let .bool(flag) = value else {
            throw .wrongType(path: path, key: key(name), expected: "true or false", got: value.summary)
        }
        return flag
    }

    public func string(_ name: String) throws(CheckpointError) -> String? {
        guard let value = value(name) else { return nil }
        guard case let .string(text) = value else {
            throw .wrongType(path: path, key: key(name), expected: "a string", got: value.summary)
        }
        return text
    }

    public func object(_ name: String) throws(CheckpointError) -> ConfigObject? {
        guard let value = value(name) else { return nil }
        guard case let .object(members) = value else {
            throw .wrongType(path: path, key: key(name), expected: "an object", got: value.summary)
        }
        return ConfigObject(members: members, path: path, prefix: key(name) + ".")
    }

    /// An integer or a list of integers (as `eos_token_id` may be), always returned as a list.
    public func intList(_ name: String) throws(CheckpointError) -> [Int]? {
        guard let value = value(name) else { return nil }
        if let single = value.integralValue { return [single] }
        guard case let .array(items) = value else {
            throw .wrongType(path: path, key: key(name), expected: "an integer or a list of integers", got: value.summary)
        }
        var result: [Int] = []
        for (position, item) in items.enumerated() {
            guard let number = item.integralValue else {
                throw .wrongType(path: path, key: "\(key(name))[\(position)]", expected: "an integer", got: item.summary)
            }
            result.append(number)
        }
        return result
    }

    public func stringList(_ name: String) throws(CheckpointError) -> [String]? {
        guard let value = value(name) else { return nil }
        guard case let .array(items) = value else {
            throw .wrongType(path: path, key: key(name), expected: "a list of strings", got: value.summary)
        }
        var result: [String] = []
        for (position, item) in items.enumerated() {
            guard case let .string(text) = item else {
                throw .wrongType(path: path, key: "\(key(name))[\(position)]", expected: "a string", got: item.summary)
            }
            result.append(text)
        }
        return result
    }

    // MARK: Required fields

    public func requiredInt(_ name: String) throws(CheckpointError) -> Int {
        guard let number = try int(name) else { throw missing(name, "an integer") }
        return number
    }

    public func requiredDouble(_ name: String) throws(CheckpointError) -> Double {
        guard let number = try double(name) else { throw missing(name, "a number") }
        return number
    }

    public func requiredString(_ name: String) throws(CheckpointError) -> String {
        guard let text = try string(name) else { throw missing(name, "a string") }
        return text
    }

    /// A missing field, or `null` where a value is required.
    private func missing(_ name: String, _ expected: String) -> CheckpointError {
        fields[name] == nil
            ? .missingField(path: path, key: key(name), expected: expected)
            : .wrongType(path: path, key: key(name), expected: expected, got: "null")
    }
}
