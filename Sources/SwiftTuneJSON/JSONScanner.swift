/// The recursive-descent reader behind ``JSONParser``: one cursor over the bytes, one value per call.
///
/// Strings are the hot path (dataset rows are mostly text): runs without `"`, `\` or control characters are
/// skipped eight bytes at a time and become a `String` in one validating copy; escapes go through a reused
/// scratch buffer.
struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    let options: JSONParser.Options
    /// The next byte to read.
    var index = 0
    /// Containers open around `index`.
    var depth = 0
    /// The decoded bytes of a string with escapes, reused from string to string.
    var scratch: [UInt8] = []

    /// Objects with more members than this get a hash index for the duplicate-key check; smaller ones are
    /// scanned, which is faster for the few keys of a dataset row.
    static let linearKeyLimit = 12

    init(bytes: UnsafeRawBufferPointer, options: JSONParser.Options) {
        self.bytes = bytes
        self.options = options
    }

    // MARK: Documents

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        try expectEnd()
        return value
    }

    mutating func parseTopLevelArray() throws(JSONError) -> [(offset: Int, value: JSONValue)] {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { throw unexpected("'[' (a JSON array)") }
        var elements: [(offset: Int, value: JSONValue)] = []
        try parseElements { offset, value in elements.append((offset, value)) }
        try expectEnd()
        return elements
    }

    private mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        guard index == bytes.count else { throw unexpected("the end of the text after the value") }
    }

    // MARK: Values

    mutating func parseValue() throws(JSONError) -> JSONValue {
        guard index < bytes.count else { throw unexpected("a value") }
        switch bytes[index] {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["):
            var items: [JSONValue] = []
            items.reserveCapacity(4)
            try parseElements { _, value in items.append(value) }
            return .array(items)
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "N") where options.allowsNonFiniteNumbers:
            try literal("NaN")
            return .number(JSONNumber(validatedText: "NaN"))
        case UInt8(ascii: "I") where options.allowsNonFiniteNumbers:
            try literal("Infinity")
            return .number(JSONNumber(validatedText: "Infinity"))
        default: throw unexpected("a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        for offset in 0..<count where index + offset == bytes.count || bytes[index + offset] != word.utf8Start[offset] {
            index += offset  // the error points at the first byte that differs
            throw unexpected("\(word)")
        }
        index += count
    }

    /// An array starting at `index` (on its `[`); `body` gets each element with its offset.
    @inline(__always)
    private mutating func parseElements(_ body: (Int, JSONValue) -> Void) throws(JSONError) {
        if try open(closing: UInt8(ascii: "]")) { return }
        var position = 0
        repeat {
            let start = index
            do { body(start, try parseValue()) } catch { throw error.within(position: position) }
            position += 1
        } while try next(closing: UInt8(ascii: "]"), "',' or ']' after an array element")
    }

    private mutating func parseObject() throws(JSONError) -> JSONValue {
        var members: [JSONMember] = []
        members.reserveCapacity(4)  // one allocation for the usual few members, not three
        if try open(closing: UInt8(ascii: "}")) { return .object(members) }
        var positions: [ExactKey: Int]?  // built once the object outgrows `linearKeyLimit`
        repeat {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw unexpected("a string key") }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw unexpected("':' after a key") }
            index += 1
            skipWhitespace()
            let existing: Int? = if options.duplicateKeys == .keepAll {
                nil
            } else if let positions {
                positions[ExactKey(key)]
            } else {
                members.firstIndex { JSONMember.sameKey($0.key, key) }
            }
            if existing != nil, options.duplicateKeys == .reject {
                throw failure(.duplicateKey(key), at: keyOffset)
            }
            let value: JSONValue
            do { value = try parseValue() } catch { throw error.within(key: key) }
            if let existing {
                members[existing].value = value
            } else {
                members.append(JSONMember(key: key, value: value))
                if positions != nil {
                    positions?[ExactKey(key)] = members.count - 1
                } else if members.count > Self.linearKeyLimit, options.duplicateKeys != .keepAll {
                    positions = Dictionary(uniqueKeysWithValues: members.indices.map { (ExactKey(members[$0].key), $0) })
                }
            }
        } while try next(closing: UInt8(ascii: "}"), "',' or '}' after an object member")
        return .object(members)
    }

    /// Steps into the array or object whose opening bracket is at `index`; true when it is empty (and then
    /// already left).
    @inline(__always)
    private mutating func open(closing close: UInt8) throws(JSONError) -> Bool {
        depth += 1
        guard depth <= options.maxDepth else { throw failure(.tooDeep(limit: options.maxDepth), at: index) }
        index += 1
        skipWhitespace()
        guard index < bytes.count, bytes[index] == close else { return false }
        index += 1
        depth -= 1
        return true
    }

    /// After an element or member: true at `,` (another one follows), false at `close` (the container is left).
    @inline(__always)
    private mutating func next(closing close: UInt8, _ expected: String) throws(JSONError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw unexpected(expected) }
        switch bytes[index] {
        case UInt8(ascii: ","):
            index += 1
            skipWhitespace()
            return true
        case close:
            index += 1
            depth -= 1
            return false
        default: throw unexpected(expected)
        }
    }

    // MARK: Numbers

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept as text.
    private mutating func parseNumber() throws(JSONError) -> JSONNumber {
        let start = index
        if bytes[index] == UInt8(ascii: "-") {
            index += 1
            if options.allowsNonFiniteNumbers, index < bytes.count, bytes[index] == UInt8(ascii: "I") {
                try literal("Infinity")
                return JSONNumber(validatedText: "-Infinity")
            }
        }
        guard isDigit(at: index) else { throw unexpected("a digit") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if isDigit(at: index) { throw unexpected("'.', 'e' or the number's end after a leading 0") }
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(at: index) else { throw unexpected("a digit after '.'") }
            skipDigits()
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(at: index) else { throw unexpected("a digit in the exponent") }
            skipDigits()
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        return JSONNumber(validatedText: text)
    }

    @inline(__always)
    private func isDigit(at position: Int) -> Bool {
        position < bytes.count && bytes[position] &- UInt8(ascii: "0") < 10
    }

    @inline(__always)
    private mutating func skipDigits() {
        while isDigit(at: index) { index += 1 }
    }

    // MARK: Whitespace and errors

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            index += 1
        }
    }

    /// An error at `offset`, with its line and column (counted only now, on the way out).
    func failure(_ reason: JSONError.Reason, at offset: Int) -> JSONError {
        var line = 1
        var lineStart = 0
        for position in 0..<min(offset, bytes.count) where bytes[position] == 0x0A {
            line += 1
            lineStart = position + 1
        }
        return JSONError(reason: reason, offset: offset, line: line, column: offset - lineStart + 1)
    }

    /// The grammar wanted `expected` at `index`.
    func unexpected(_ expected: String) -> JSONError {
        failure(.unexpected(expected: expected, got: found(at: index)), at: index)
    }

    /// The character at `position` for a message: `'x'`, `'é'`, `byte 0x0A`, `the end of the text`.
    private func found(at position: Int) -> String {
        guard position < bytes.count else { return "the end of the text" }
        let byte = bytes[position]
        if byte >= 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte >= 0x80 {
            var iterator = bytes[position...].makeIterator()
            var decoder = UTF8()
            if case let .scalarValue(scalar) = decoder.decode(&iterator) { return "'\(Character(scalar))'" }
        }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }
}

/// A key hashed and compared by its UTF-8 bytes (code points), as Python compares `dict` keys.
struct ExactKey: Hashable {
    let key: String

    init(_ key: String) { self.key = key }

    static func == (lhs: ExactKey, rhs: ExactKey) -> Bool { JSONMember.sameKey(lhs.key, rhs.key) }

    func hash(into hasher: inout Hasher) {
        let hashed: Void? = key.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil {
            for byte in key.utf8 { hasher.combine(byte) }
        }
    }
}
