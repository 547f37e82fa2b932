/// What `addSpecialTokens` adds around a single sequence: HF `TemplateProcessing` (its `single` template),
/// `RobertaProcessing`/`BertProcessing` (cls … sep), `ByteLevel` (nothing to ids) or a `Sequence` of them.
struct PostProcessor: Sendable, Equatable {
    var prefix: [Int32] = []
    var suffix: [Int32] = []

    static let none = PostProcessor()

    func apply(_ ids: [Int32]) -> [Int32] {
        if prefix.isEmpty && suffix.isEmpty { return ids }
        return prefix + ids + suffix
    }
}

/// HF `decoder`: turns token strings back into text, step by step over the list of token strings.
indirect enum TokenDecoder: Sendable {
    /// Map each character back through the byte-level alphabet, then decode UTF-8 (lossy).
    case byteLevel
    /// Replace a literal in each token.
    case replace(pattern: String, content: String)
    /// `<0xNN>` tokens become bytes; a run of them decodes as UTF-8, or as one U+FFFD per byte when invalid.
    case byteFallback
    /// Join all tokens into one.
    case fuse
    /// Remove up to `start` leading and `stop` trailing `content` characters from each token.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    /// `▁` → space; the first token loses its leading space unless the scheme is `never`.
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme)
    case sequence([TokenDecoder])

    func decode(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens {
                if let raw = ByteLevelAlphabet.bytes(of: token) {
                    bytes.append(contentsOf: raw)
                } else {
                    bytes.append(contentsOf: token.utf8)
                }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case let .replace(pattern, content):
            return tokens.map { $0.replacingAll(pattern, with: content) }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let text = String(validating: pending, as: UTF8.self) {
                    out.append(text)
                } else {
                    out.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
                }
                pending.removeAll()
            }
            for token in tokens {
                if let byte = Self.fallbackByte(token) {
                    pending.append(byte)
                } else {
                    flush()
                    out.append(token)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case let .strip(content, start, stop):
            return tokens.map { token in
                var scalars = Substring(token).unicodeScalars
                var removed = 0
                while removed < start, scalars.first == content {
                    scalars.removeFirst()
                    removed += 1
                }
                removed = 0
                while removed < stop, scalars.last == content {
                    scalars.removeLast()
                    removed += 1
                }
                return String(String.UnicodeScalarView(scalars))
            }
        case let .metaspace(replacement, scheme):
            return tokens.enumerated().map { index, token in
                let text = token.replacingAll(String(replacement), with: " ")
                if index == 0 && scheme != .never && text.utf8.first == 0x20 {
                    return String(decoding: text.utf8.dropFirst(), as: UTF8.self)
                }
                return text
            }
        case let .sequence(steps):
            return steps.reduce(tokens) { $1.decode($0) }
        }
    }

    /// The byte of a `<0xNN>` token.
    static func fallbackByte(_ token: String) -> UInt8? {
        let utf8 = token.utf8
        guard utf8.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">") else { return nil }
        let hex = token.dropFirst(3).prefix(2)
        return UInt8(hex, radix: 16)
    }
}

extension String {
    /// Every occurrence of a literal replaced (Foundation-free, exact scalar matching).
    func replacingAll(_ pattern: String, with replacement: String) -> String {
        guard !pattern.isEmpty else { return self }
        let text = Array(utf8)
        let target = Array(pattern.utf8)
        guard text.count >= target.count else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        var changed = false
        while i < text.count {
            if i + target.count <= text.count && text[i] == target[0] && text[i..<i + target.count].elementsEqual(target) {
                out.append(contentsOf: replacement.utf8)
                i += target.count
                changed = true
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : self
    }
}
