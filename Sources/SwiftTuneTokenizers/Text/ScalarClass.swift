/// Character classes the pre-tokenizer patterns ask about, looked up per Unicode scalar.
///
/// `\p{L}` is general category L*, `\p{N}` is N*, `\p{M}` is M*, `\s` is the White_Space property: the Unicode
/// semantics of the Oniguruma regexes in HF tokenizers. A 64 Ki-entry table covers the BMP; other planes ask the
/// standard library's Unicode properties. Scalars assigned after Unicode 16.0 (the tables of the Oniguruma in HF
/// tokenizers 0.23) count as unassigned, as they do there: e.g. U+0CDC (Unicode 17) is not a letter.
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8

    static let letter = ScalarClass(rawValue: 1)
    static let number = ScalarClass(rawValue: 2)
    static let whitespace = ScalarClass(rawValue: 4)
    static let mark = ScalarClass(rawValue: 8)
    /// NFC may change this scalar or compose it with the one before (see NFCQuickCheckTable.swift).
    static let nfcUnsafe = ScalarClass(rawValue: 16)

    /// The class of one scalar value.
    @inline(__always)
    static func of(_ value: UInt32) -> ScalarClass {
        if value < 0x10000 { return ScalarClass(rawValue: bmpTable[Int(value)]) }
        return compute(value)
    }

    static func compute(_ value: UInt32) -> ScalarClass {
        guard let scalar = Unicode.Scalar(value) else { return [] }
        var result: ScalarClass = []
        if isNFCUnsafe(value) { result.insert(.nfcUnsafe) }
        guard let age = scalar.properties.age, age.major < 16 || (age.major == 16 && age.minor == 0) else { return result }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            result.insert(.number)
        case .nonspacingMark, .spacingMark, .enclosingMark:
            result.insert(.mark)
        default:
            break
        }
        if scalar.properties.isWhitespace { result.insert(.whitespace) }
        return result
    }

    static func isNFCUnsafe(_ value: UInt32) -> Bool {
        // Binary search over the inclusive (lo, hi) pairs.
        var low = 0
        var high = nfcUnsafeRanges.count / 2
        while low < high {
            let mid = (low + high) / 2
            if nfcUnsafeRanges[2 * mid + 1] < value {
                low = mid + 1
            } else {
                high = mid
            }
        }
        return low < nfcUnsafeRanges.count / 2 && nfcUnsafeRanges[2 * low] <= value
    }

    static let bmpTable: [UInt8] = (0..<0x10000).map { value in
        (0xD800...0xDFFF).contains(value) ? 0 : compute(UInt32(value)).rawValue
    }
}

/// UTF-8 helpers over valid UTF-8 (Swift strings are always valid).
enum UTF8Scalar {
    /// The scalar starting at `i` and its length in bytes. `i` must be the start of a scalar, before `end`.
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (value: UInt32, length: Int) {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
            | UInt32(bytes[i + 3] & 0x3F), 4)
    }

    /// Length of the scalar whose first byte is `lead`.
    @inline(__always)
    static func length(lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    /// Appends the UTF-8 encoding of `value` to `out`.
    static func append(_ value: UInt32, to out: inout [UInt8]) {
        if value < 0x80 {
            out.append(UInt8(value))
        } else if value < 0x800 {
            out.append(UInt8(0xC0 | value >> 6))
            out.append(UInt8(0x80 | value & 0x3F))
        } else if value < 0x10000 {
            out.append(UInt8(0xE0 | value >> 12))
            out.append(UInt8(0x80 | value >> 6 & 0x3F))
            out.append(UInt8(0x80 | value & 0x3F))
        } else {
            out.append(UInt8(0xF0 | value >> 18))
            out.append(UInt8(0x80 | value >> 12 & 0x3F))
            out.append(UInt8(0x80 | value >> 6 & 0x3F))
            out.append(UInt8(0x80 | value & 0x3F))
        }
    }
}
