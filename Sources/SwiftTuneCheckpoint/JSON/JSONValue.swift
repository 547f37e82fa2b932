/// A parsed JSON value that keeps what `JSONSerialization` loses: member order, duplicate keys and the exact
/// text of numbers (so a `u64` offset is never rounded through `Double`).
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    /// The number's literal text, validated against the JSON grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in file order; a key may repeat (callers decide whether that is an error).
    case object([JSONMember])

    /// The value of an integer literal (`12`, `-3`), nil for anything else, including `1.0` and overflow.
    public var exactInteger: Int? {
        guard case let .number(text) = self, !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            return nil
        }
        return Int(text)
    }

    /// An integer written either way, `4096` or `4096.0` or `4.096e3`: config files from Python sometimes carry floats.
    public var flexibleInteger: Int? {
        if let exact = exactInteger { return exact }
        guard let value = double, value.rounded() == value, abs(value) <= 9_007_199_254_740_992 else { return nil }
        return Int(value)
    }

    /// The number as a `Double` (nearest), nil if not a number.
    public var double: Double? {
        guard case let .number(text) = self else { return nil }
        return Double(text)
    }

    /// A short rendering for error messages: the literal for scalars, the kind for containers.
    public var summary: String {
        switch self {
        case .null: "null"
        case let .bool(value): "\(value)"
        case let .number(text): text
        case let .string(text): text.count > 40 ? "a string \"\(text.prefix(40))…\"" : "a string \"\(text)\""
        case let .array(items): "an array of \(items.count)"
        case .object: "an object"
        }
    }
}

/// One `"key": value` pair of a JSON object.
public struct JSONMember: Sendable {
    public let key: String
    public let value: JSONValue
}

/// Where JSON text stops making sense: the byte offset and what was expected there.
struct JSONParseError: Error {
    let offset: Int
    let message: String
}
