extension JSONScanner {
    /// A string starting at `index` (on its opening quote); leaves `index` after the closing quote.
    mutating func parseString() throws(JSONError) -> String {
        let start = index + 1
        var (stop, highBits) = scanPlainRun(from: start)
        guard stop < bytes.count else { throw unterminatedString(at: stop) }
        if bytes[stop] == UInt8(ascii: "\"") {
            index = stop + 1
            return try makeString(UnsafeRawBufferPointer(rebasing: bytes[start..<stop]), highBits: highBits, rawStart: start)
        }

        // Escapes: decode into `scratch`, copying the plain runs between them.
        scratch.removeAll(keepingCapacity: true)
        var runStart = start
        while true {
            guard stop < bytes.count else { throw unterminatedString(at: stop) }
            let byte = bytes[stop]
            if byte < 0x20 { throw failure(.controlCharacter(byte), at: stop) }
            scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<stop]))
            if byte == UInt8(ascii: "\"") {
                index = stop + 1
                return try scratch.withUnsafeBytes { decoded in
                    Result { () throws(JSONError) in try makeString(decoded, highBits: highBits, rawStart: start) }
                }.get()
            }
            runStart = try appendEscape(at: stop)
            let run = scanPlainRun(from: runStart)
            stop = run.stop
            highBits |= run.highBits
        }
    }

    /// From `start`, the first byte that is `"`, `\` or a control character (or the end), and the OR of the
    /// bytes before it (bit 7 set when any is non-ASCII).
    @inline(__always)
    private func scanPlainRun(from start: Int) -> (stop: Int, highBits: UInt8) {
        var position = start
        var high: UInt64 = 0
        // Eight bytes at a time while none needs attention (the "has zero byte" tricks of
        // https://graphics.stanford.edu/~seander/bithacks.html#ValueInWord).
        while position + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            let ones: UInt64 = 0x0101_0101_0101_0101
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
            if special & (ones &* 0x80) != 0 { break }
            high |= word
            position += 8
        }
        var highBits = UInt8(truncatingIfNeeded: (high & (0x0101_0101_0101_0101 &* 0x80)) == 0 ? 0 : 0x80)
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            highBits |= byte
            position += 1
        }
        return (position, highBits)
    }

    /// The string of `utf8`; raw bytes with bit 7 set are validated, and an invalid sequence is reported at its
    /// offset among the raw bytes from `rawStart`.
    private func makeString(_ utf8: UnsafeRawBufferPointer, highBits: UInt8, rawStart: Int) throws(JSONError) -> String {
        if highBits < 0x80 { return String(decoding: utf8, as: UTF8.self) }
        if let text = String(validating: utf8, as: UTF8.self) { return text }
        throw failure(.invalidUTF8, at: firstInvalidUTF8(from: rawStart))
    }

    /// The offset of the first byte from `start` that does not begin or continue a well-formed UTF-8 sequence
    /// (Unicode 15, table 3-7: no overlongs, no surrogates, nothing past U+10FFFF).
    private func firstInvalidUTF8(from start: Int) -> Int {
        var position = start
        while position < bytes.count {
            let lead = bytes[position]
            if lead < 0x80 { position += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // allowed range of the second byte
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return position
            }
            for next in 1..<length {
                guard position + next < bytes.count else { return position }
                let byte = bytes[position + next]
                let (min, max) = next == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
                guard byte >= min, byte <= max else { return position }
            }
            position += length
        }
        return start
    }

    /// Decodes the escape at `position` (on its backslash) into `scratch`; returns the offset after it.
    private mutating func appendEscape(at position: Int) throws(JSONError) -> Int {
        guard position + 1 < bytes.count else { throw unterminatedString(at: position + 1) }
        let byte = bytes[position + 1]
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(byte)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"): return try appendUnicodeEscape(at: position)
        default:
            throw failure(.invalidEscape("'\\\(Character(Unicode.Scalar(byte)))' (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"),
                          at: position)
        }
        return position + 2
    }

    /// `\uXXXX`, or a UTF-16 surrogate pair `\uD83D\uDE00`, at `position`; returns the offset after it.
    private mutating func appendUnicodeEscape(at position: Int) throws(JSONError) -> Int {
        let unit = try hex4(at: position + 2)
        var end = position + 6
        var scalar = Unicode.Scalar(unit)
        if (0xD800..<0xDC00).contains(unit), end + 1 < bytes.count,
           bytes[end] == UInt8(ascii: "\\"), bytes[end + 1] == UInt8(ascii: "u") {
            let low = try hex4(at: end + 2)
            if (0xDC00..<0xE000).contains(low) {
                scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                end += 6
            }
        }
        guard let scalar else {
            guard options.replacesLoneSurrogates else {
                throw failure(.invalidEscape("\\u\(String(unit, radix: 16, uppercase: true)): a lone UTF-16 surrogate"),
                              at: position)
            }
            appendUTF8(0xFFFD)
            return end
        }
        appendUTF8(scalar.value)
        return end
    }

    /// The four hex digits at `position`.
    private func hex4(at position: Int) throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 {
            let digit: UInt8
            let byte = position + offset < bytes.count ? bytes[position + offset] : 0
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw failure(.invalidEscape("\\u: expected 4 hex digits, got \(position + offset < bytes.count ? "'\(Character(Unicode.Scalar(byte)))'" : "the end of the text")"),
                              at: position + offset)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Appends the UTF-8 encoding of the scalar `value` to `scratch`.
    private mutating func appendUTF8(_ value: UInt32) {
        switch value {
        case 0..<0x80:
            scratch.append(UInt8(value))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | value >> 6))
            scratch.append(UInt8(0x80 | value & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | value >> 12))
            scratch.append(UInt8(0x80 | value >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | value & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | value >> 18))
            scratch.append(UInt8(0x80 | value >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | value >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | value & 0x3F))
        }
    }

    private func unterminatedString(at position: Int) -> JSONError {
        failure(.unexpected(expected: "'\"' closing the string", got: "the end of the text"), at: position)
    }
}
