extension JSONValue: Codable {
    /// Decodes any JSON value. Object members come in key order, since `Decoder`s (Foundation's among them) do
    /// not report the source order; use ``JSONParser`` where that order matters.
    public init(from decoder: any Decoder) throws {
        if var container = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !container.isAtEnd { items.append(try container.decode(JSONValue.self)) }
            self = .array(items)
        } else if let container = try? decoder.container(keyedBy: MemberKey.self) {
            self = .object(try container.allKeys
                .sorted { $0.stringValue.unicodeScalars.lexicographicallyPrecedes($1.stringValue.unicodeScalars) }
                .map { JSONMember(key: $0.stringValue, value: try container.decode(JSONValue.self, forKey: $0)) })
        } else {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let flag = try? container.decode(Bool.self) {
                self = .bool(flag)
            } else if let integer = try? container.decode(Int64.self) {
                self = .number(JSONNumber(integer))
            } else if let integer = try? container.decode(UInt64.self) {
                self = .number(JSONNumber(integer))
            } else if let float = try? container.decode(Double.self) {
                self = .number(JSONNumber(float))
            } else {
                self = .string(try container.decode(String.self))
            }
        }
    }

    /// Encodes the value; members in order (whether the output keeps it is the encoder's business). Integers
    /// beyond 64 bits and non-finite floats go through `Double`, the widest number `Encoder`s take.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case let .array(items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case let .object(members):
            var container = encoder.container(keyedBy: MemberKey.self)
            for member in members { try container.encode(member.value, forKey: MemberKey(stringValue: member.key)) }
        default:
            var container = encoder.singleValueContainer()
            switch self {
            case let .bool(flag): try container.encode(flag)
            case let .number(number):
                if number.isInteger, let integer = Int64(number.text) {
                    try container.encode(integer)
                } else if number.isInteger, let integer = UInt64(number.text) {
                    try container.encode(integer)
                } else {
                    try container.encode(number.doubleValue)
                }
            case let .string(text): try container.encode(text)
            default: try container.encodeNil()
            }
        }
    }

    /// Any object key.
    private struct MemberKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
