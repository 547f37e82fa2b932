/// Pieces of JSON text written the way the reference tools write them, so files come out byte-identical to
/// theirs: strings as serde_json and Python's `json.dumps` quote them, floats as Python's `repr`.
public enum JSONText {
    /// `text` as a JSON string literal: `"` and `\` escaped, the short escapes `\b \f \n \r \t`, `\u00XX`
    /// (lowercase hex) for the other control characters, everything else as UTF-8 — what serde_json (the
    /// safetensors header) and `json.dumps(ensure_ascii=False)` write. With `asciiOnly`, everything outside
    /// `" "..."~"` is written as `\uXXXX` UTF-16 units, as `json.dumps` does by default (the shard index,
    /// `adapter_config.json`).
    public static func quoted(_ text: String, asciiOnly: Bool = false) -> String {
        var out = ""
        appendQuoted(text, asciiOnly: asciiOnly, to: &out)
        return out
    }

    /// ``quoted(_:asciiOnly:)`` appended to `out`.
    public static func appendQuoted(_ text: String, asciiOnly: Bool, to out: inout String) {
        let limit: UInt8 = asciiOnly ? 0x7F : 0xFF
        let plain = !text.utf8.contains { byte in
            byte < 0x20 || byte >= limit || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
        }
        out += "\""
        if plain {
            out += text
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
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
            case _ where asciiOnly && scalar.value >= 0x7F:
                for unit in String(scalar).utf16 { out += "\\u" + hex4(unit) }
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// Python's `repr(float)`, which `json.dumps` writes: the shortest digits that read back to the same value,
    /// `.0` on whole numbers below 1e16 (`100.0`), an exponent from 1e16 up and below 1e-4 (`1e+16`, `1e-05`),
    /// and `NaN`, `Infinity`, `-Infinity`.
    ///
    /// Swift's own description agrees everywhere but in [2^53, 1e16), where it already switches to an exponent.
    public static func pythonFloat(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity") }
        if abs(value) >= 0x1p53, abs(value) < 1e16 { return String(Int64(value)) + ".0" }
        return "\(value)"
    }

    /// Four lowercase hex digits.
    private static func hex4(_ unit: UInt16) -> String {
        let hex = String(unit, radix: 16)
        return String(repeating: "0", count: 4 - hex.count) + hex
    }
}
