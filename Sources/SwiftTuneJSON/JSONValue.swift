/// A JSON value (RFC 8259, https://www.rfc-editor.org/rfc/rfc8259) that keeps what `JSONSerialization` loses:
/// the order of object members, as Python's `json.loads` keeps it, and the exact text of numbers, so a `u64`
/// offset or a 30-digit integer is never rounded through `Double`.
///
/// Parse one with ``JSONParser``; write one with ``pythonJSONString(indent:sortKeys:asciiOnly:)``.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number, as its literal text.
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    /// Members in source order. A key repeats only with ``JSONParser/Options/DuplicateKeys/keepAll`` or in a
    /// value built in code; lookups then take the last one.
    case object([JSONMember])

    /// The value of the member named `key` (the last one if repeated); nil if absent or not an object.
    /// Keys match by Unicode code points, as in Python: `"é"` and `"e\u{301}"` are different keys.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.last(where: { JSONMember.sameKey($0.key, key) })?.value
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    /// The flag, if this is `true` or `false`.
    public var boolValue: Bool? {
        if case let .bool(flag) = self { return flag }
        return nil
    }

    /// The number, if this is a number.
    public var numberValue: JSONNumber? {
        if case let .number(number) = self { return number }
        return nil
    }

    /// The value of an integer literal (`12`, `-3`) that fits in `Int`; nil for anything else, including `1.0`.
    public var intValue: Int? { numberValue?.intValue }

    /// An integer however it is written, `4096`, `4096.0` or `4.096e3` (config files from Python sometimes carry
    /// floats); nil for fractions, non-numbers, and floats beyond ±2^53 where whole numbers are no longer exact.
    public var integralValue: Int? { numberValue?.integralValue }

    /// The number as the nearest `Double` (`1e400` is infinity); nil if this is not a number.
    public var doubleValue: Double? { numberValue?.doubleValue }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case let .array(items) = self { return items }
        return nil
    }

    /// The members in order, if this is an object.
    public var objectMembers: [JSONMember]? {
        if case let .object(members) = self { return members }
        return nil
    }

    /// `true` for `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The JSON type with its article, for messages: "null", "a boolean", "a number", "a string", "an array",
    /// "an object".
    public var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// A short rendering for "got …" in messages: the literal for scalars (strings cut at 40 characters), the
    /// kind (and an array's size) for containers.
    public var summary: String {
        switch self {
        case .null: "null"
        case let .bool(flag): "\(flag)"
        case let .number(number): number.text
        case let .string(text): text.count > 40 ? "a string \"\(text.prefix(40))…\"" : "a string \"\(text)\""
        case let .array(items): "an array of \(items.count)"
        case .object: "an object"
        }
    }
}

/// One `"key": value` member of a JSON object.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }

    /// Equality as JSON and Python see keys: the same code points. Swift's `==` on `String` would also
    /// equate canonically equivalent spellings (`"é"` and `"e\u{301}"`).
    @inline(__always)
    static func sameKey(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let compared = a.utf8.withContiguousStorageIfAvailable { left in
            b.utf8.withContiguousStorageIfAvailable { right in left.elementsEqual(right) }
        }
        return (compared ?? nil) ?? a.utf8.elementsEqual(b.utf8)
    }

    /// Same key by code points and equal values.
    public static func == (lhs: JSONMember, rhs: JSONMember) -> Bool {
        sameKey(lhs.key, rhs.key) && lhs.value == rhs.value
    }
}
