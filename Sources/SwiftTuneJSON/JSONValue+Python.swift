extension JSONValue {
    /// The text Python's `json.dumps` writes for this value, byte for byte
    /// (https://docs.python.org/3/library/json.html#json.dumps):
    ///
    /// - `pythonJSONString()` is `json.dumps(value, ensure_ascii=False)`: `", "` and `": "` separators on one
    ///   line, as ms-swift writes tool lists into a system prompt.
    /// - `indent: 2` is `json.dumps(value, indent=2)`: one item a line, `","` at line ends, `[]` and `{}` for
    ///   empty containers.
    /// - `sortKeys` sorts object keys by code point (`sort_keys=True`); `asciiOnly` escapes everything outside
    ///   ASCII as `\uXXXX` (`ensure_ascii=True`, Python's default).
    ///
    /// Integers are written as parsed (`-0` as `0`, big integers exactly, as Python's `int`); floats as Python's
    /// `repr` (``JSONText/pythonFloat(_:)``), so `-3e2` becomes `-300.0`.
    public func pythonJSONString(indent: Int? = nil, sortKeys: Bool = false, asciiOnly: Bool = false) -> String {
        var writer = PythonJSONWriter(indent: indent, sortKeys: sortKeys, asciiOnly: asciiOnly)
        writer.write(self, level: 0)
        return writer.out
    }
}

/// The state of one ``JSONValue/pythonJSONString(indent:sortKeys:asciiOnly:)`` call.
private struct PythonJSONWriter {
    let indent: Int?
    let sortKeys: Bool
    let asciiOnly: Bool
    var out = ""

    init(indent: Int?, sortKeys: Bool, asciiOnly: Bool) {
        self.indent = indent
        self.sortKeys = sortKeys
        self.asciiOnly = asciiOnly
    }

    mutating func write(_ value: JSONValue, level: Int) {
        switch value {
        case .null: out += "null"
        case let .bool(flag): out += flag ? "true" : "false"
        case let .number(number):
            out += number.isInteger ? number.canonicalIntegerText : JSONText.pythonFloat(number.doubleValue)
        case let .string(text): JSONText.appendQuoted(text, asciiOnly: asciiOnly, to: &out)
        case let .array(items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (position, item) in items.enumerated() {
                separate(first: position == 0, level: level + 1)
                write(item, level: level + 1)
            }
            close("]", level: level)
        case let .object(members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{"
            let ordered = sortKeys
                ? members.sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
                : members
            for (position, member) in ordered.enumerated() {
                separate(first: position == 0, level: level + 1)
                JSONText.appendQuoted(member.key, asciiOnly: asciiOnly, to: &out)
                out += ": "
                write(member.value, level: level + 1)
            }
            close("}", level: level)
        }
    }

    /// What goes before an item: nothing or `", "` on one line; a newline and the indent, after `","` but for
    /// the first item, when indenting.
    private mutating func separate(first: Bool, level: Int) {
        if let indent {
            out += first ? "\n" : ",\n"
            out += String(repeating: " ", count: indent * level)
        } else if !first {
            out += ", "
        }
    }

    private mutating func close(_ bracket: String, level: Int) {
        if let indent { out += "\n" + String(repeating: " ", count: indent * level) }
        out += bracket
    }
}
