/// One entry of `added_tokens` in tokenizer.json.
public struct AddedToken: Sendable, Equatable {
    public let id: Int32
    public let content: String
    /// Special tokens are left out by `decode(_:skipSpecialTokens: true)`.
    public let special: Bool
    /// Whitespace before (`lstrip`) or after (`rstrip`) the token belongs to the token.
    public let lstrip: Bool
    public let rstrip: Bool
    /// Matches only when not inside a word.
    public let singleWord: Bool
    /// Matched in the normalized text (true) or in the raw text (false).
    public let normalized: Bool
}

/// Leftmost-longest matching of added tokens in text (HF `AddedVocabulary`), with a byte trie stored in a hash
/// table keyed by `node << 8 | byte`.
struct AddedTokenMatcher: Sendable {
    private let tokens: [AddedToken]
    /// `node << 8 | byte` → child node.
    private let edges: PairTable
    /// Node → index into `tokens` + 1 (0: no token ends here).
    private let terminal: [Int32]
    /// Bytes that start some token.
    private let firstBytes: [Bool]

    var isEmpty: Bool { tokens.isEmpty }

    /// `patterns[i]` is the byte string matched for `tokens[i]` (its content, normalized where it says so).
    init(tokens: [AddedToken], patterns: [[UInt8]]) {
        self.tokens = tokens
        var edges = PairTable(capacity: max(16, patterns.reduce(0) { $0 + $1.count }))
        var terminal: [Int32] = [0]
        var firstBytes = [Bool](repeating: false, count: 256)
        for (index, pattern) in patterns.enumerated() where !pattern.isEmpty {
            firstBytes[Int(pattern[0])] = true
            var node: UInt64 = 0
            for byte in pattern {
                let key = node << 8 | UInt64(byte)
                if let child = edges.lookup(key) {
                    node = child
                } else {
                    let child = UInt64(terminal.count)
                    terminal.append(0)
                    edges.insert(key, child)
                    node = child
                }
            }
            if terminal[Int(node)] == 0 { terminal[Int(node)] = Int32(index + 1) }  // first wins on duplicates
        }
        self.edges = edges
        self.terminal = terminal
        self.firstBytes = firstBytes
    }

    /// Calls `body(start, end, token)` for each text piece (token nil) and each matched token, in order.
    /// Whitespace absorbed by `lstrip`/`rstrip` belongs to the token's span.
    func split(_ text: UnsafeBufferPointer<UInt8>, _ body: (Int, Int, AddedToken?) -> Void) {
        var pieceStart = 0
        var i = 0
        let n = text.count
        while i < n {
            guard firstBytes[Int(text[i])], let (end, token) = longestMatch(text, at: i) else {
                i += 1
                continue
            }
            if token.singleWord && !isWordBoundary(text, start: i, end: end) {
                i = end
                continue
            }
            var start = i
            var stop = end
            if token.lstrip {
                while start > pieceStart, let previous = scalarBefore(text, start), isWhitespace(previous.value) {
                    start -= previous.length
                }
            }
            if token.rstrip {
                while stop < n {
                    let (value, length) = UTF8Scalar.decode(text, at: stop)
                    if !isWhitespace(value) { break }
                    stop += length
                }
            }
            if pieceStart < start { body(pieceStart, start, nil) }
            body(start, stop, token)
            pieceStart = stop
            i = stop
        }
        if pieceStart < n { body(pieceStart, n, nil) }
    }

    private func longestMatch(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> (Int, AddedToken)? {
        var node: UInt64 = 0
        var best: (Int, AddedToken)? = nil
        var i = start
        while i < text.count, let child = edges.lookup(node << 8 | UInt64(text[i])) {
            node = child
            i += 1
            let index = terminal[Int(node)]
            // A match must end on a scalar boundary (token contents are whole strings).
            if index > 0 && (i == text.count || text[i] & 0xC0 != 0x80) { best = (i, tokens[Int(index - 1)]) }
        }
        return best
    }

    private func scalarBefore(_ text: UnsafeBufferPointer<UInt8>, _ end: Int) -> (value: UInt32, length: Int)? {
        guard end > 0 else { return nil }
        var start = end - 1
        while start > 0 && text[start] & 0xC0 == 0x80 { start -= 1 }
        return (UTF8Scalar.decode(text, at: start).value, end - start)
    }

    private func isWhitespace(_ value: UInt32) -> Bool { ScalarClass.of(value).contains(.whitespace) }

    private func isWordCharacter(_ value: UInt32) -> Bool {
        value == 0x5F || !ScalarClass.of(value).isDisjoint(with: [.letter, .number])
    }

    private func isWordBoundary(_ text: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Bool {
        if let previous = scalarBefore(text, start), isWordCharacter(previous.value) { return false }
        if end < text.count && isWordCharacter(UTF8Scalar.decode(text, at: end).value) { return false }
        return true
    }
}
