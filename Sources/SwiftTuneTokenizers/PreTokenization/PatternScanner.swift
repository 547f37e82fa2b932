import Foundation

/// Finds the matches of a pre-tokenizer's split pattern in UTF-8 text.
///
/// The regexes of the tokenizers swift-tune targets are recognised by their source text and run by hand-written
/// scanners over Unicode scalars (a table lookup per scalar); any other regex runs on `NSRegularExpression`
/// (ICU, Unicode-aware like the Oniguruma engine HF tokenizers uses).
enum PatternScanner: Sendable {
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    /// (Llama 3: up to 3 digits; Qwen2: 1). With `letterMarks`, `\p{L}` reads `[\p{L}\p{M}]` (Qwen3.5).
    case llama3Style(maxDigits: Int, letterMarks: Bool)
    /// GPT-2's `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// A literal string pattern.
    case literal([UInt8])
    /// Any other regex.
    case regex(UncheckedRegex)

    /// `NSRegularExpression` is immutable and thread-safe but not marked `Sendable`.
    struct UncheckedRegex: @unchecked Sendable {
        let expression: NSRegularExpression
    }

    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen35Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// The scanner for a regex source, or nil when `NSRegularExpression` cannot compile it.
    static func forRegex(_ pattern: String) -> PatternScanner? {
        switch pattern {
        case llama3Pattern: return .llama3Style(maxDigits: 3, letterMarks: false)
        case qwen2Pattern: return .llama3Style(maxDigits: 1, letterMarks: false)
        case qwen35Pattern: return .llama3Style(maxDigits: 1, letterMarks: true)
        case gpt2Pattern: return .gpt2
        default:
            guard let expression = try? NSRegularExpression(pattern: pattern) else { return nil }
            return .regex(UncheckedRegex(expression: expression))
        }
    }

    /// Calls `body(start, end, isMatch)` for the consecutive matches and gaps that tile `bytes[range]`.
    func forEachSpan(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (Int, Int, Bool) -> Void) {
        switch self {
        case let .llama3Style(maxDigits, letterMarks):
            var i = range.lowerBound
            while i < range.upperBound {
                let end = Self.llama3Match(bytes, i, range.upperBound, maxDigits: maxDigits, letterMarks: letterMarks)
                body(i, end, true)
                i = end
            }
        case .gpt2:
            var i = range.lowerBound
            while i < range.upperBound {
                let end = Self.gpt2Match(bytes, i, range.upperBound)
                body(i, end, true)
                i = end
            }
        case let .literal(pattern):
            Self.literalSpans(bytes, range, pattern, body)
        case let .regex(regex):
            Self.regexSpans(bytes, range, regex.expression, body)
        }
    }

    // MARK: Hand-written scanners. Each returns the end of the match that starts at `i` (every position matches).

    @inline(__always)
    private static func classAt(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> (ScalarClass, Int) {
        let b = bytes[i]
        if b < 0x80 { return (asciiClass[Int(b)], 1) }
        let (value, length) = UTF8Scalar.decode(bytes, at: i)
        return (ScalarClass.of(value), length)
    }

    private static let asciiClass: [ScalarClass] = (0..<128).map { ScalarClass.of(UInt32($0)) }

    /// End of the contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at `i` (an apostrophe), or nil.
    @inline(__always)
    private static func contraction(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, caseInsensitive: Bool)
        -> Int?
    {
        guard i + 1 < end else { return nil }
        let fold: (UInt8) -> UInt8 = { caseInsensitive && $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        let c1 = fold(bytes[i + 1])
        switch c1 {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return i + 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return i + 2 < end && fold(bytes[i + 2]) == UInt8(ascii: "e") ? i + 3 : nil
        case UInt8(ascii: "l"):
            return i + 2 < end && fold(bytes[i + 2]) == UInt8(ascii: "l") ? i + 3 : nil
        case 0xC5 where caseInsensitive:
            // U+017F LATIN SMALL LETTER LONG S case-folds to "s".
            return i + 2 < end && bytes[i + 2] == 0xBF ? i + 3 : nil
        default:
            return nil
        }
    }

    @inline(__always)
    private static func isCRLF(_ b: UInt8) -> Bool { b == 0x0A || b == 0x0D }

    private static func llama3Match(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, maxDigits: Int,
                                    letterMarks: Bool) -> Int
    {
        let letters: ScalarClass = letterMarks ? [.letter, .mark] : .letter
        let notOther: ScalarClass = letterMarks ? [.letter, .number, .whitespace, .mark] : [.letter, .number, .whitespace]
        let first = bytes[i]
        if first == UInt8(ascii: "'"), let stop = contraction(bytes, i, end, caseInsensitive: true) { return stop }
        let (c, length) = classAt(bytes, i)
        // [^\r\n\p{L}\p{N}]?\p{L}+
        var j = i
        if !c.isDisjoint(with: letters) {
            j = i + length
        } else if !isCRLF(first) && c.isDisjoint(with: [.number]) && i + length < end {
            let (next, nextLength) = classAt(bytes, i + length)
            if !next.isDisjoint(with: letters) { j = i + length + nextLength }
        }
        if j > i {
            while j < end {
                let (k, kLength) = classAt(bytes, j)
                if k.isDisjoint(with: letters) { break }
                j += kLength
            }
            return j
        }
        // \p{N}{1,maxDigits}
        if c.contains(.number) {
            j = i + length
            var count = 1
            while count < maxDigits && j < end {
                let (k, kLength) = classAt(bytes, j)
                if !k.contains(.number) { break }
                j += kLength
                count += 1
            }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var start = -1
        if c.isDisjoint(with: notOther) {
            start = i
        } else if first == 0x20 && i + 1 < end {
            let (next, _) = classAt(bytes, i + 1)
            if next.isDisjoint(with: notOther) { start = i + 1 }
        }
        if start >= 0 {
            j = start
            while j < end {
                let (k, kLength) = classAt(bytes, j)
                if !k.isDisjoint(with: notOther) { break }
                j += kLength
            }
            while j < end && isCRLF(bytes[j]) { j += 1 }
            return j
        }
        // c is whitespace: `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`.
        return whitespaceMatch(bytes, i, end, newlines: true)
    }

    /// The whitespace alternatives at `i` (a whitespace scalar). With `newlines`, `\s*[\r\n]+` comes first.
    @inline(__always)
    private static func whitespaceMatch(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, newlines: Bool) -> Int {
        var j = i
        var lastNewline = -1
        var lastStart = i
        var scalars = 0
        while j < end {
            let (k, kLength) = classAt(bytes, j)
            if !k.contains(.whitespace) { break }
            if isCRLF(bytes[j]) { lastNewline = j }
            lastStart = j
            j += kLength
            scalars += 1
        }
        if newlines && lastNewline >= 0 { return lastNewline + 1 }
        if j == end || scalars == 1 { return j }
        return lastStart  // `\s+(?!\S)`: leave the last whitespace scalar to the next token
    }

    private static func gpt2Match(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        let first = bytes[i]
        if first == UInt8(ascii: "'"), let stop = contraction(bytes, i, end, caseInsensitive: false) { return stop }
        var (c, length) = classAt(bytes, i)
        var start = i
        if first == 0x20 && i + 1 < end {
            let (next, nextLength) = classAt(bytes, i + 1)
            if !next.contains(.whitespace) {
                start = i + 1
                c = next
                length = nextLength
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: the same loop with the class of the first scalar.
        if !c.contains(.whitespace) {
            let kind: ScalarClass = c.contains(.letter) ? .letter : c.contains(.number) ? .number : []
            var j = start + length
            while j < end {
                let (k, kLength) = classAt(bytes, j)
                let same = kind.isEmpty ? k.isDisjoint(with: [.letter, .number, .whitespace]) : k.contains(kind)
                if !same { break }
                j += kLength
            }
            return j
        }
        return whitespaceMatch(bytes, i, end, newlines: false)
    }

    // MARK: Literal and regex patterns.

    private static func literalSpans(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ pattern: [UInt8],
                                     _ body: (Int, Int, Bool) -> Void)
    {
        var gapStart = range.lowerBound
        var i = range.lowerBound
        guard !pattern.isEmpty else {
            body(range.lowerBound, range.upperBound, false)
            return
        }
        while i + pattern.count <= range.upperBound {
            var equal = true
            for k in 0..<pattern.count where bytes[i + k] != pattern[k] {
                equal = false
                break
            }
            if equal {
                if gapStart < i { body(gapStart, i, false) }
                body(i, i + pattern.count, true)
                i += pattern.count
                gapStart = i
            } else {
                i += 1
            }
        }
        if gapStart < range.upperBound { body(gapStart, range.upperBound, false) }
    }

    private static func regexSpans(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                                   _ expression: NSRegularExpression, _ body: (Int, Int, Bool) -> Void)
    {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        // UTF-16 offset → byte offset, for the matches NSRegularExpression reports.
        var byteOffsetOfUTF16 = [Int]()
        byteOffsetOfUTF16.reserveCapacity(range.count + 1)
        var offset = range.lowerBound
        for scalar in text.unicodeScalars {
            byteOffsetOfUTF16.append(offset)
            if scalar.value > 0xFFFF { byteOffsetOfUTF16.append(offset) }
            offset += UTF8Scalar.length(lead: bytes[offset])
        }
        byteOffsetOfUTF16.append(offset)
        var gapStart = range.lowerBound
        let whole = NSRange(location: 0, length: byteOffsetOfUTF16.count - 1)
        for match in expression.matches(in: text, range: whole) where match.range.length > 0 {
            let start = byteOffsetOfUTF16[match.range.location]
            let stop = byteOffsetOfUTF16[match.range.location + match.range.length]
            if gapStart < start { body(gapStart, start, false) }
            body(start, stop, true)
            gapStart = stop
        }
        if gapStart < range.upperBound { body(gapStart, range.upperBound, false) }
    }
}
