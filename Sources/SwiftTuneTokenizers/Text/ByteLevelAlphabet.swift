/// GPT-2's byte ↔ unicode alphabet for byte-level BPE (FORMATS.md §4, "bytes_to_unicode").
///
/// The 188 printable bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) keep their code point; the other 68 bytes, in increasing
/// order, map to U+0100 + n. So a space is `Ġ` (U+0120) and a newline `Ċ` (U+010A).
enum ByteLevelAlphabet {
    /// `scalarOfByte[b]`: the code point standing for byte `b`.
    static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var extra: UInt32 = 0
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = 0x100 + extra
                extra += 1
            }
        }
        return table
    }()

    /// The byte a code point stands for, or nil when it is not in the alphabet (0x100 + 68 entries).
    static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarOfByte.enumerated() { table[Int(scalar)] = Int16(byte) }
        return table
    }()

    @inline(__always)
    static func byte(of scalar: UInt32) -> UInt8? {
        guard scalar < 0x144 else { return nil }
        let value = byteOfScalar[Int(scalar)]
        return value < 0 ? nil : UInt8(value)
    }

    /// The raw bytes of a byte-level token string, or nil when a character is outside the alphabet.
    static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(of: scalar.value) else { return nil }
            out.append(byte)
        }
        return out
    }

    /// The byte-level string of raw bytes.
    static func string(of bytes: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(scalarOfByte[Int(byte)])!) }
        return String(scalars)
    }
}
