/// Turns ids into text one id at a time, for printing tokens as they are generated.
///
/// Each `append` decodes a short window of recent ids and returns the text they add, so the decoder's context
/// rules (SentencePiece's leading-space strip, byte fallback, byte-level characters) apply as in `decode`.
/// A window that does not start the sequence is decoded behind a plain "anchor" token (e.g. `a`) whose text is
/// then removed, so a leading-space strip meant for the start of the text never hits the middle of it.
/// Text is held back while the window ends inside a UTF-8 character (a byte-level or `<0xNN>` token carrying
/// only part of it), so no chunk contains half a character; `finish()` flushes what is left.
/// The chunks concatenate to `decode(allIDs, skipSpecialTokens:)` for the tokenizers swift-tune loads.
public struct StreamingDecoder: Sendable {
    public let tokenizer: Tokenizer
    public let skipSpecialTokens: Bool
    private var ids: [Int32] = []
    /// Start of the window decoded for context; `readOffset`: end of the ids already turned into text.
    private var prefixOffset = 0
    private var readOffset = 0
    /// Index of the first id that `decode` does not leave out.
    private var firstKept: Int?

    /// The anchor token and its decoded text (nil when the vocabulary has none: windows then decode bare).
    private let anchor: (id: Int32, text: String)?

    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        anchor = ["a", "A", "x", "0", "."].lazy.compactMap { token -> (id: Int32, text: String)? in
            guard let id = tokenizer.tokenID(token), !tokenizer.isSpecial(id) else { return nil }
            let text = tokenizer.decode([id], skipSpecialTokens: false)
            return text == token ? (id, text) : nil
        }.first
    }

    /// The text of `ids[start..<end]` as it reads inside the whole sequence: behind the anchor once a token
    /// that `decode` keeps (not a skipped special token) comes before `start`.
    private func decodeWindow(_ start: Int, _ end: Int) -> String {
        guard let firstKept, start > firstKept, let anchor else {
            return tokenizer.decode(Array(ids[start..<end]), skipSpecialTokens: skipSpecialTokens)
        }
        let text = tokenizer.decode([anchor.id] + ids[start..<end], skipSpecialTokens: skipSpecialTokens)
        return Self.suffix(of: text, after: anchor.text)
    }

    /// Adds one id; returns the new text, or nil when there is none yet (e.g. half of a character).
    public mutating func append(_ id: Int32) -> String? {
        ids.append(id)
        if firstKept == nil && !(skipSpecialTokens && tokenizer.isSpecial(id)) { firstKept = ids.count - 1 }
        if endsInsideCharacter() { return nil }
        let before = decodeWindow(prefixOffset, readOffset)
        let text = decodeWindow(prefixOffset, ids.count)
        let chunk = Self.suffix(of: text, after: before)
        // Keep the previous id as context: the next window then starts mid-text (no leading-space strip).
        prefixOffset = readOffset
        readOffset = ids.count
        return chunk.isEmpty ? nil : chunk
    }

    /// Text still held back (an incomplete character at the end, decoded with U+FFFD), or nil.
    public mutating func finish() -> String? {
        guard readOffset < ids.count else { return nil }
        let before = decodeWindow(prefixOffset, readOffset)
        let text = decodeWindow(prefixOffset, ids.count)
        prefixOffset = readOffset
        readOffset = ids.count
        let chunk = Self.suffix(of: text, after: before)
        return chunk.isEmpty ? nil : chunk
    }

    /// `text` minus its prefix `before` (compared as UTF-8; all of `text` if `before` is not a prefix).
    private static func suffix(of text: String, after before: String) -> String {
        let t = text.utf8
        let b = before.utf8
        guard t.count >= b.count, t.starts(with: b) else { return text }
        return String(decoding: t.dropFirst(b.count), as: UTF8.self)
    }

    /// Whether the raw bytes of the unread ids end with an incomplete (but so far valid) UTF-8 sequence.
    private func endsInsideCharacter() -> Bool {
        var tail: [UInt8] = []
        // Up to 4 trailing bytes from the last byte-carrying tokens (a character has at most 4).
        var index = ids.count - 1
        while index >= readOffset && tail.count < 4 {
            if skipSpecialTokens && tokenizer.isSpecial(ids[index]) {
                index -= 1
                continue
            }
            guard let bytes = tokenizer.rawBytes(of: ids[index]) else { break }
            tail.insert(contentsOf: bytes.suffix(4 - tail.count), at: 0)
            index -= 1
        }
        // Find the last lead byte and compare the bytes after it with the length it announces.
        var continuation = 0
        for byte in tail.reversed() {
            if byte & 0xC0 == 0x80 {
                continuation += 1
                continue
            }
            let needed = byte >= 0xF0 && byte <= 0xF4 ? 3 : byte >= 0xE0 ? (byte >= 0xF0 ? 0 : 2) : byte >= 0xC2 ? 1 : 0
            return continuation < needed
        }
        return false
    }
}
