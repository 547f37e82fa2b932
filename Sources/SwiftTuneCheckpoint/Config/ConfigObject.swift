import Foundation

/// Typed access to one JSON object of a config file, with errors that name the file and the dotted key
/// (`config.json: "rope_scaling.factor" must be a number, got "8"`).
///
/// `null` reads as absent, as it does for Hugging Face configs. A repeated key takes the last value, as
/// Python's `json` does. Integers may be written as floats (`1.0e4`), since some exporters do.
public struct ConfigObject: Sendable {
    public let path: String
    /// Prefix for keys in messages: "" at the top level, "rope_scaling." inside that object.
    public let prefix: String
    public let members: [JSONMember]
    private let fields: [String: JSONValue]

    init(members: [JSONMember], path: String, prefix: String) {
        self.members = members
        self.path = path
        self.prefix = prefix
        fields = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// Parses `data` as a JSON document whose top level must be an object.
    public static func root(_ data: Data, path: String) throws(CheckpointError) -> ConfigObject {
        let parsed: Result<JSONValue, JSONParseError> = data.withUnsafeBytes { bytes in
            guard String(validating: bytes, as: UTF8.self) != nil else {
                return .failure(JSONParseError(offset: 0, message: "the file is not valid UTF-8"))
            }
            return Result { () throws(JSONParseError) in try JSONParser.parse(bytes) }
        }
        switch parsed {
        case let .failure(error):
            throw .invalidValue(path: path, key: "(file)", reason: "is not valid JSON: byte \(error.offset): \(error.message)")
        case let .success(.object(members)):
            return ConfigObject(members: members, path: path, prefix: "")
        case let .success(other):
            throw .wrongType(path: path, key: "(file)", expected: "a JSON object", got: other.summary)
        }
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
        guard let number = value.flexibleInteger else {
            throw .wrongType(path: path, key: key(name), expected: "an integer", got: value.summary)
        }
        return number
    }

    public func double(_ name: String) throws(CheckpointError) -> Double? {
        guard let value = value(name) else { return nil }
        guard let number = value.double, number.isFinite else {
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
        if let single = value.flexibleInteger { return [single] }
        guard case let .array(items) = value else {
            throw .wrongType(path: path, key: key(name), expected: "an integer or a list of integers", got: value.summary)
        }
        var result: [Int] = []
        for (position, item) in items.enumerated() {
            guard let number = item.flexibleInteger else {
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
