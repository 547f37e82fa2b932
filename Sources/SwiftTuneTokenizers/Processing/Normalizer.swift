import Foundation

/// An HF `normalizer`: rewrites each piece of text between added tokens before pre-tokenization.
indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd, lowercase
    case prepend([UInt8])
    case replace(PatternScanner, content: [UInt8])
    case strip(left: Bool, right: Bool)
    case sequence([Normalizer])

    /// Normalizes `text`; returns nil when the text is unchanged (the common case, which allocates nothing).
    func apply(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        switch self {
        case .nfc:
            guard Self.mayChangeUnderNFC(text) else { return nil }
            return Self.foundationNormalized(text) { $0.precomposedStringWithCanonicalMapping }
        case .nfd:
            guard !Self.isASCII(text) else { return nil }
            return Self.foundationNormalized(text) { $0.decomposedStringWithCanonicalMapping }
        case .nfkc:
            guard !Self.isASCII(text) else { return nil }
            return Self.foundationNormalized(text) { $0.precomposedStringWithCompatibilityMapping }
        case .nfkd:
            guard !Self.isASCII(text) else { return nil }
            return Self.foundationNormalized(text) { $0.decomposedStringWithCompatibilityMapping }
        case .lowercase:
            let string = String(decoding: text, as: UTF8.self)
            let lowered = string.lowercased()
            return lowered == string ? nil : Array(lowered.utf8)
        case let .prepend(prefix):
            return text.isEmpty ? nil : prefix + Array(text)
        case let .replace(pattern, content):
            var out: [UInt8] = []
            var changed = false
            pattern.forEachSpan(text, 0..<text.count) { start, end, isMatch in
                if isMatch {
                    out.append(contentsOf: content)
                    changed = true
                } else {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<end]))
                }
            }
            return changed ? out : nil
        case let .strip(left, right):
            let string = String(decoding: text, as: UTF8.self)
            var scalars = Substring(string).unicodeScalars[...]
            if left { while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() } }
            if right { while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() } }
            let stripped = String(String.UnicodeScalarView(scalars))
            return stripped.utf8.count == text.count ? nil : Array(stripped.utf8)
        case let .sequence(steps):
            var current: [UInt8]? = nil
            for step in steps {
                let next: [UInt8]?
                if let buffer = current {
                    next = buffer.withUnsafeBufferPointer { step.apply($0) }
                } else {
                    next = step.apply(text)
                }
                if let next { current = next }
            }
            return current
        }
    }

    /// False when every scalar is NFC-stable on its own and cannot compose with the one before it.
    static func mayChangeUnderNFC(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < text.count {
            let b = text[i]
            if b < 0xCC {  // below U+0300 (lead bytes up to 0xCB): nothing composes or decomposes
                i += b < 0x80 ? 1 : 2
                continue
            }
            let (value, length) = UTF8Scalar.decode(text, at: i)
            if ScalarClass.of(value).contains(.nfcUnsafe) { return true }
            i += length
        }
        return false
    }

    private static func isASCII(_ text: UnsafeBufferPointer<UInt8>) -> Bool { text.allSatisfy { $0 < 0x80 } }

    private static func foundationNormalized(_ text: UnsafeBufferPointer<UInt8>, _ transform: (String) -> String)
        -> [UInt8]?
    {
        let string = String(decoding: text, as: UTF8.self)
        let normalized = transform(string)
        let bytes = Array(normalized.utf8)
        return bytes.elementsEqual(text) ? nil : bytes
    }
}
