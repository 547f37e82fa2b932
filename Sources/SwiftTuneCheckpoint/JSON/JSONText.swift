/// Writing JSON text the way the reference tools do, so written files are byte-identical to theirs.
public enum JSONText {
    /// `text` as a JSON string literal, escaped like serde_json (the safetensors header): `"` and `\` escaped,
    /// the short escapes for \b \f \n \r \t, `\u00XX` (lowercase hex) for other control characters, everything
    /// else written as UTF-8. With `asciiOnly`, non-ASCII is written as `\uXXXX` (UTF-16 units), as Python's
    /// `json.dumps` does by default (the shard index).
    public static func quoted(_ text: String, asciiOnly: Bool = false) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if asciiOnly, !scalar.isASCII || scalar.value == 0x7F {  // Python escapes everything outside " "..."~"
                for unit in String(scalar).utf16 { out += "\\u" + hex4(unit) }
                continue
            }
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{00}"..."\u{1F}":
                out += "\\u" + hex4(UInt16(scalar.value))
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Four lowercase hex digits.
    private static func hex4(_ unit: UInt16) -> String {
        let hex = String(unit, radix: 16)
        return String(repeating: "0", count: 4 - hex.count) + hex
    }
}
