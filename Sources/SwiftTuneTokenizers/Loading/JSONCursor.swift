import Foundation

/// A position in a parsed JSON document (from `JSONSerialization`) that remembers its file and key path, so
/// every type mismatch or missing key becomes a `TokenizerError` naming both.
struct JSONCursor {
    let file: String
    let path: String
    /// The value here; nil when the key is absent. JSON null is `NSNull`.
    let value: Any?

    /// Parses `data` (the contents of `file`).
    static func parse(_ data: Data, file: String) throws -> JSONCursor {
        do {
            let root = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return JSONCursor(file: file, path: "$", value: root)
        } catch {
            throw TokenizerError.invalidJSON(file: file, detail: (error as NSError).localizedDescription)
        }
    }

    subscript(key: String) -> JSONCursor {
        let child = path == "$" ? key : "\(path).\(key)"
        return JSONCursor(file: file, path: child, value: (value as? [String: Any])?[key])
    }

    /// Absent or JSON null.
    var isNull: Bool { value == nil || value is NSNull }

    /// A short description of the JSON type of the value, for errors.
    var typeName: String {
        switch value {
        case nil: return "nothing (key absent)"
        case is NSNull: return "null"
        case let string as String: return "string \(String(reflecting: String(string.prefix(60))))"
        case let number as NSNumber: return isBool(number) ? "boolean \(number.boolValue)" : "number \(number)"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value!))"
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
        guard let string = value as? String else { throw mismatch("a string") }
        return string
    }

    func optionalString() throws -> String? { isNull ? nil : try string() }

    func int() throws -> Int {
        if value == nil { throw missing() }
        guard let number = value as? NSNumber, !isBool(number), let int = Int(exactly: number.doubleValue) else {
            throw mismatch("an integer")
        }
        return int
    }

    func optionalInt() throws -> Int? { isNull ? nil : try int() }

    func bool(default defaultValue: Bool) throws -> Bool {
        if isNull { return defaultValue }
        guard let number = value as? NSNumber, isBool(number) else { throw mismatch("a boolean") }
        return number.boolValue
    }

    func array() throws -> [JSONCursor] {
        if value == nil { throw missing() }
        guard let array = value as? [Any] else { throw mismatch("an array") }
        return array.enumerated().map { JSONCursor(file: file, path: "\(path)[\($0.offset)]", value: $0.element) }
    }

    func object() throws -> [String: Any] {
        if value == nil { throw missing() }
        guard let object = value as? [String: Any] else { throw mismatch("an object") }
        return object
    }

    private func isBool(_ number: NSNumber) -> Bool {
        // JSONSerialization gives booleans as NSNumber of ObjC type "c" (char), on Linux as on Darwin.
        String(cString: number.objCType) == "c"
    }
}
