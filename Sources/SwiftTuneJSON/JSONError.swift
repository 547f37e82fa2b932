/// Why a text is not acceptable JSON, and where: the byte offset, its line and column, and the key path of the
/// value being read.
///
/// Rendered as `expected ',' or '}' after an object member, got 'x' at byte 41 (line 3, column 9) in
/// messages[1]`; callers put the file name in front.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    public enum Reason: Sendable, Equatable {
        /// The grammar wanted `expected` (`"a value"`, `"',' or ']' after an array element"`) and found `got`
        /// (`"'x'"`, `"byte 0xFF"`, `"the end of the text"`).
        case unexpected(expected: String, got: String)
        /// An object names `key` twice (with ``JSONParser/Options/DuplicateKeys/reject``).
        case duplicateKey(String)
        /// Arrays and objects nest deeper than `limit`.
        case tooDeep(limit: Int)
        /// A string holds bytes that are not UTF-8.
        case invalidUTF8
        /// A string holds a raw control character (U+0000–U+001F must be escaped).
        case controlCharacter(UInt8)
        /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`, or a `\u` escape that is not a
        /// well-formed UTF-16 code unit sequence.
        case invalidEscape(String)
    }

    /// What was wrong.
    public let reason: Reason
    /// Bytes from the start of the parsed text to the offending byte (0-based).
    public let offset: Int
    /// The line of `offset`, counting from 1 (lines end at `\n`).
    public let line: Int
    /// The byte of `offset` within its line, counting from 1.
    public let column: Int
    /// Where in the document: member keys joined by `.`, array positions as `[i]` (`messages[1].content`);
    /// empty at the top level.
    public let path: String

    init(reason: Reason, offset: Int, line: Int, column: Int, path: String = "") {
        self.reason = reason
        self.offset = offset
        self.line = line
        self.column = column
        self.path = path
    }

    /// The same error seen from the object holding it under `key`.
    func within(key: String) -> JSONError {
        JSONError(reason: reason, offset: offset, line: line, column: column,
                  path: path.isEmpty || path.hasPrefix("[") ? key + path : key + "." + path)
    }

    /// The same error seen from the array holding it at `position`.
    func within(position: Int) -> JSONError {
        JSONError(reason: reason, offset: offset, line: line, column: column,
                  path: path.isEmpty || path.hasPrefix("[") ? "[\(position)]" + path : "[\(position)]." + path)
    }

    /// The reason alone, without position: `duplicate key "w"`.
    public var message: String {
        switch reason {
        case let .unexpected(expected, got): "expected \(expected), got \(got)"
        case let .duplicateKey(key): "duplicate key \"\(key)\" (keys must be unique)"
        case let .tooDeep(limit): "arrays and objects nest deeper than \(limit) levels"
        case .invalidUTF8: "invalid UTF-8 in a string (hint: re-encode the file as UTF-8)"
        case let .controlCharacter(byte): "unescaped control character 0x\(String(byte, radix: 16)) in a string (expected \\u00XX)"
        case let .invalidEscape(detail): "invalid escape \(detail)"
        }
    }

    /// The message, where, and the key path. Line and column are left out on line 1, where the byte offset says
    /// the same (a JSONL row is always line 1 of its own text).
    public var description: String {
        "\(message) at byte \(offset)" + (line > 1 ? " (line \(line), column \(column))" : "")
            + (path.isEmpty ? "" : " in the value of \(path)")
    }
}
