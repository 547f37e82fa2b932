import SwiftTuneChat
import SwiftTuneJSON

/// Typed access to a raw record's fields that reports the file, line and key of a wrong value.
struct FieldReader {
    let fields: [JSONMember]
    let location: RowLocation

    func has(_ key: String) -> Bool { fields.contains { $0.key == key } }

    func value(_ key: String) -> JSONValue? { fields.last { $0.key == key }?.value }

    func problem(_ problem: RowProblem, key: String?, _ detail: String) -> DataError {
        .badRow(location: location, problem: problem, key: key, detail: detail)
    }

    /// A string; numbers and other types are rejected with the key named.
    func string(_ value: JSONValue, key: String) throws(DataError) -> String {
        if let s = value.stringValue { return s }
        if value.isNull { throw problem(.wrongType, key: key, "expected a string, got null. Hint: write the text in quotes, or drop the key") }
        throw problem(.wrongType, key: key, "expected a string, got \(value.typeDescription) (\(value.pythonJSONString().prefix(40))). Hint: write the text in quotes")
    }

    func optionalString(_ key: String) throws(DataError) -> String? {
        guard let v = value(key), !v.isNull else { return nil }
        return try string(v, key: key)
    }

    /// A message list; a string holding JSON is parsed (ms-swift repairs such columns).
    func messageList(_ key: String) throws(DataError) -> [JSONValue] {
        guard let v = value(key) else { throw problem(.noUsableFields, key: key, "missing") }
        if let list = v.arrayValue { return list }
        if let s = v.stringValue, let parsed = try? JSONParser.parse(s, options: .python), let list = parsed.arrayValue { return list }
        throw problem(.wrongType, key: key, "expected a list of messages, got \(v.typeDescription)")
    }

    /// KTO labels: booleans, 0/1, "true"/"false".
    func bool(_ value: JSONValue, key: String) throws(DataError) -> Bool {
        switch value {
        case let .bool(b): return b
        case let .number(n) where n.doubleValue == 0 || n.doubleValue == 1: return n.doubleValue == 1
        case let .string(s) where ["true", "1", "false", "0"].contains(s.lowercased()): return s.lowercased() == "true" || s == "1"
        default: throw problem(.wrongType, key: key, "expected true/false, got \(value.pythonJSONString().prefix(40)). Hint: a JSON boolean, without quotes")
        }
    }

    /// Tool definitions: a list (or a JSON string of one) of objects (or JSON strings of objects).
    func tools(_ value: JSONValue) throws(DataError) -> [JSONValue] {
        var v = value
        if let s = value.stringValue {
            guard let parsed = try? JSONParser.parse(s, options: .python) else { throw problem(.wrongType, key: "tools", "a string that is not JSON") }
            v = parsed
        }
        let list = v.arrayValue ?? [v]
        var out: [JSONValue] = []
        for (i, item) in list.enumerated() {
            var tool = item
            if let s = item.stringValue, let parsed = try? JSONParser.parse(s, options: .python) { tool = parsed }
            guard tool.objectMembers != nil else { throw problem(.wrongType, key: "tools[\(i)]", "expected an object, got \(tool.typeDescription)") }
            out.append(tool)
        }
        return out
    }

    /// A tool call from `{"name": …, "arguments": …}` (ShareGPT function_call, JSON text or object) or OpenAI's
    /// `{"type": "function", "function": {…}}`; string arguments holding JSON are parsed.
    func toolCall(_ value: JSONValue, key: String) throws(DataError) -> ToolCall {
        var v = value
        if let s = value.stringValue {
            guard let parsed = try? JSONParser.parse(s, options: .python) else { throw problem(.wrongType, key: key, "function call is not JSON") }
            v = parsed
        }
        if let f = v["function"] { v = f }
        guard let name = v["name"]?.stringValue else { throw problem(.invalidMessages, key: key, "function call has no name") }
        var arguments = v["arguments"] ?? v["parameters"] ?? .object([])
        if let s = arguments.stringValue, let parsed = try? JSONParser.parse(s, options: .python) { arguments = parsed }
        return ToolCall(name: name, arguments: arguments)
    }
}
