import Foundation
import SwiftTuneJSON

/// The top-level JSON object of a run file, with typed reads that name the file and key when a value has the
/// wrong type. `null` reads as absent, as Python writes `None`.
struct RunFileObject {
    let path: String
    let members: [JSONMember]

    init(members: [JSONMember], path: String) {
        self.members = members
        self.path = path
    }

    /// Parses `bytes` as Python's `json.load` would (duplicate keys: the last wins).
    init(json bytes: some Collection<UInt8>, path: String, hint: String) throws(RunFileError) {
        let root: JSONValue
        do { root = try JSONParser.parse(bytes, options: .python) } catch {
            throw .unreadable(path: path, reason: "is not valid JSON: \(error.message)", hint: hint)
        }
        guard let members = root.objectMembers else {
            throw .unreadable(path: path, reason: "holds \(root.typeDescription), not a JSON object", hint: hint)
        }
        self.init(members: members, path: path)
    }

    init(contentsOf url: URL, hint: String) throws(RunFileError) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .unreadable(path: url.path, reason: "cannot be read", hint: hint)
        }
        try self.init(json: data, path: url.path, hint: hint)
    }

    /// The value of `key` (the last one if repeated); nil when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let value = JSONValue.object(members)[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String) throws(RunFileError) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.stringValue else { throw wrongType(key, "a string", value) }
        return text
    }

    /// A list of strings; a single string reads as a list of one (ms-swift accepts both).
    func strings(_ key: String) throws(RunFileError) -> [String]? {
        guard let value = value(key) else { return nil }
        if let text = value.stringValue { return [text] }
        guard let items = value.arrayValue else { throw wrongType(key, "a list of strings", value) }
        var texts: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw wrongType(key, "a list of strings", value) }
            texts.append(text)
        }
        return texts
    }

    /// An integer, however written (`10`, `10.0`); with `required`, absence is an error.
    func int(_ key: String, required: Bool = false) throws(RunFileError) -> Int? {
        guard let value = value(key) else {
            if required { throw .missingKey(path: path, key: key, expected: "an integer") }
            return nil
        }
        guard let integer = value.integralValue else { throw wrongType(key, "an integer", value) }
        return integer
    }

    /// A non-negative integer up to 2^64 − 1 (seeds).
    func unsigned(_ key: String) throws(RunFileError) -> UInt64? {
        guard let value = value(key) else { return nil }
        if let number = value.numberValue, number.isInteger, let unsigned = UInt64(number.text) { return unsigned }
        if let integer = value.integralValue, integer >= 0 { return UInt64(integer) }
        throw wrongType(key, "a non-negative integer", value)
    }

    func double(_ key: String) throws(RunFileError) -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.doubleValue else { throw wrongType(key, "a number", value) }
        return number
    }

    func array(_ key: String) throws(RunFileError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard let items = value.arrayValue else { throw wrongType(key, "a list", value) }
        return items
    }

    private func wrongType(_ key: String, _ expected: String, _ value: JSONValue) -> RunFileError {
        .wrongType(path: path, key: key, expected: expected, got: value.summary)
    }
}
