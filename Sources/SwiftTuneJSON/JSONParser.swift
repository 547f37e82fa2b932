/// A strict JSON parser (RFC 8259, https://www.rfc-editor.org/rfc/rfc8259) over UTF-8 bytes, for every file
/// format the package reads: safetensors headers, `config.json`, shard indexes, adapter configs, `tokenizer.json`,
/// dataset rows and tool calls.
///
/// One pass, no copy of contiguous input, strings validated as UTF-8 as they are read; errors carry the byte offset,
/// line, column and key path (``JSONError``). Object member order is kept. Nesting is capped
/// (``Options/maxDepth``) so hostile input cannot overflow the stack.
///
/// Two presets cover the writers the package meets:
/// - ``Options/strict`` (the default): what serde_json accepts, plus duplicate keys refused — the safetensors
///   reference reader's rules.
/// - ``Options/python``: what Python's `json.loads` accepts — a repeated key keeps its first position and takes
///   the last value, `NaN`/`Infinity`/`-Infinity` are numbers, a lone `\uD800` becomes U+FFFD (Swift strings
///   cannot hold it). For files that Python wrote: datasets, `config.json`, `adapter_config.json`.
public enum JSONParser {
    /// What to accept beyond RFC 8259's grammar, and how deep to go.
    public struct Options: Sendable, Equatable {
        /// What a key that repeats within one object does.
        public enum DuplicateKeys: Sendable, Equatable {
            /// Throw ``JSONError/Reason/duplicateKey(_:)`` at the second occurrence.
            case reject
            /// Keep the first position and the last value, as Python's `dict` does.
            case keepLast
            /// Keep every member in source order, repeats included, for callers that judge repeats themselves
            /// (lookups with ``JSONValue/subscript(_:)`` take the last).
            case keepAll
        }

        public var duplicateKeys: DuplicateKeys
        /// Accept `NaN`, `Infinity` and `-Infinity` as numbers (Python writes them by default).
        public var allowsNonFiniteNumbers: Bool
        /// Read a `\u` escape of an unpaired UTF-16 surrogate as U+FFFD instead of throwing.
        public var replacesLoneSurrogates: Bool
        /// Arrays and objects may nest this deep (the top-level container is level 1).
        public var maxDepth: Int

        public init(duplicateKeys: DuplicateKeys = .reject, allowsNonFiniteNumbers: Bool = false,
                    replacesLoneSurrogates: Bool = false, maxDepth: Int = 512) {
            self.duplicateKeys = duplicateKeys
            self.allowsNonFiniteNumbers = allowsNonFiniteNumbers
            self.replacesLoneSurrogates = replacesLoneSurrogates
            self.maxDepth = maxDepth
        }

        /// RFC 8259 and unique keys.
        public static let strict = Options()
        /// Python's `json.loads`.
        public static let python = Options(duplicateKeys: .keepLast, allowsNonFiniteNumbers: true,
                                           replacesLoneSurrogates: true)
    }

    /// Parses one JSON value that fills `bytes` (whitespace around it allowed; no byte-order mark).
    public static func parse(_ bytes: UnsafeRawBufferPointer, options: Options = .strict) throws(JSONError) -> JSONValue {
        var scanner = JSONScanner(bytes: bytes, options: options)
        return try scanner.parseDocument()
    }

    /// Parses one JSON value that fills `bytes` (`[UInt8]`, `ArraySlice<UInt8>`, `Data`, `String.UTF8View`).
    /// Offsets in errors count from `bytes.startIndex`.
    public static func parse(_ bytes: some Collection<UInt8>, options: Options = .strict) throws(JSONError) -> JSONValue {
        try withRawBytes(bytes) { (raw) throws(JSONError) in try parse(raw, options: options) }
    }

    /// Parses JSON text.
    public static func parse(_ text: String, options: Options = .strict) throws(JSONError) -> JSONValue {
        try parse(text.utf8, options: options)
    }

    /// Parses a JSON array that fills `bytes`, returning each top-level element with the byte offset where it
    /// starts, so a dataset loader can name the line of a bad row and keep the good ones.
    public static func parseTopLevelArray(_ bytes: UnsafeRawBufferPointer,
                                          options: Options = .strict) throws(JSONError) -> [(offset: Int, value: JSONValue)] {
        var scanner = JSONScanner(bytes: bytes, options: options)
        return try scanner.parseTopLevelArray()
    }

    /// The same over `[UInt8]`, `ArraySlice<UInt8>` or `Data` (offsets count from `bytes.startIndex`).
    public static func parseTopLevelArray(_ bytes: some Collection<UInt8>,
                                          options: Options = .strict) throws(JSONError) -> [(offset: Int, value: JSONValue)] {
        try withRawBytes(bytes) { (raw) throws(JSONError) in try parseTopLevelArray(raw, options: options) }
    }

    /// `body` over the bytes in place when they are contiguous, over a copy otherwise.
    private static func withRawBytes<R>(_ bytes: some Collection<UInt8>,
                                        _ body: (UnsafeRawBufferPointer) throws(JSONError) -> R) throws(JSONError) -> R {
        let inPlace = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONError) in try body(UnsafeRawBufferPointer(buffer)) }
        }
        if let inPlace { return try inPlace.get() }
        return try Array(bytes).withUnsafeBytes { raw in Result { () throws(JSONError) in try body(raw) } }.get()
    }
}
