/// Text read from a file, made safe to put in a message: a corrupt GGUF key or tensor name may hold NUL, control
/// bytes or megabytes of junk.
enum ShownText {
    /// The longest text shown whole, in characters (Unicode scalars).
    static let limit = 80

    /// `text` unchanged when it is printable and at most `limit` characters; otherwise its first `limit` characters
    /// with Swift-style escapes (`\0`, `\t`, `\n`, `\r`, `\\`, `\"`, `\u{1B}` for other control and invisible
    /// characters) and, when longer, `…` and its full length in bytes.
    static func escaped(_ text: String, limit: Int = ShownText.limit) -> String {
        let scalars = text.unicodeScalars
        let shown = scalars.prefix(limit)
        let truncated = !scalars.dropFirst(limit).isEmpty
        guard truncated || shown.contains(where: needsEscape) else { return text }
        var out = ""
        for scalar in shown {
            switch scalar {
            case "\0": out += "\\0"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default:
                if isInvisible(scalar) {
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return truncated ? out + "… (\(text.utf8.count) bytes)" : out
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        isInvisible(scalar) || scalar == "\\" || scalar == "\""
    }

    /// Control characters (C0 with NUL, tab and newlines, DEL, C1), format characters, line and paragraph
    /// separators, unassigned, private-use and surrogate code points, and U+FFFD (what an invalid UTF-8 byte became).
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .unassigned, .privateUse, .surrogate: true
        default: scalar == "\u{FFFD}"
        }
    }
}
