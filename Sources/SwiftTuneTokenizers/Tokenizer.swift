import Foundation

/// A tokenizer loaded from an HF `tokenizer.json` (with `tokenizer_config.json` and `special_tokens_map.json`
/// when present): byte-level BPE (Llama 3, Qwen2/2.5/3, SmolLM2) and SentencePiece-style BPE with byte
/// fallback (Llama 2, Mistral). Gives the same ids as HF tokenizers.
///
/// Encoding follows HF's pipeline: added tokens are split out of the raw text first, each piece between them is
/// normalized, pre-tokenized and run through the BPE model, and `addSpecialTokens` applies the post-processor.
/// Immutable and safe to share between threads (the BPE word cache is internally locked).
public final class Tokenizer: TextTokenizer, Sendable {
    public let vocabularySize: Int
    public let bosTokenID: Int32?
    public let eosTokenID: Int32?
    public let padTokenID: Int32?
    public let unkTokenID: Int32?
    public let chatTemplate: String?
    /// The `added_tokens` of tokenizer.json (special and not).
    public let addedTokens: [AddedToken]

    let model: BPEModel
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer
    let postProcessor: PostProcessor
    let decoder: TokenDecoder?
    /// Added tokens matched in the raw text (`normalized: false`) and in normalized text.
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    /// id → token string (vocabulary and added tokens); nil for holes.
    let tokenStrings: [String?]
    /// id → is a special added token.
    let specialFlags: [Bool]
    let addedIDs: [String: Int32]

    init(model: BPEModel, normalizer: Normalizer?, preTokenizer: PreTokenizer, postProcessor: PostProcessor,
         decoder: TokenDecoder?, addedTokens: [AddedToken], specials: SpecialTokens)
    {
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.addedTokens = addedTokens
        let maxID = max(model.vocab.values.max() ?? -1, addedTokens.map(\.id).max() ?? -1)
        vocabularySize = Int(maxID) + 1
        var strings = [String?](repeating: nil, count: vocabularySize)
        for (token, id) in model.vocab { strings[Int(id)] = token }
        var flags = [Bool](repeating: false, count: vocabularySize)
        var addedIDs: [String: Int32] = [:]
        for token in addedTokens {
            strings[Int(token.id)] = token.content
            flags[Int(token.id)] = token.special
            addedIDs[token.content] = token.id
        }
        tokenStrings = strings
        specialFlags = flags
        self.addedIDs = addedIDs
        let raw = addedTokens.filter { !$0.normalized }
        rawMatcher = AddedTokenMatcher(tokens: raw, patterns: raw.map { Array($0.content.utf8) })
        let normalized = addedTokens.filter(\.normalized)
        normalizedMatcher = AddedTokenMatcher(tokens: normalized, patterns: normalized.map { token in
            let content = Array(token.content.utf8)
            return content.withUnsafeBufferPointer { normalizer?.apply($0) } ?? content
        })
        bosTokenID = specials.bos
        eosTokenID = specials.eos
        padTokenID = specials.pad
        unkTokenID = specials.unk ?? model.unkID
        chatTemplate = specials.chatTemplate
    }

    /// Special-token ids and the chat template, resolved from tokenizer_config.json / special_tokens_map.json.
    struct SpecialTokens {
        var bos: Int32?
        var eos: Int32?
        var pad: Int32?
        var unk: Int32?
        var chatTemplate: String?
    }

    // MARK: Encoding

    /// Token ids for `text`. Added tokens written in the text are matched as such; with `addSpecialTokens`,
    /// the post-processor's tokens are added (e.g. Llama 2's `<s>`).
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        var text = text
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 4)
        var scratch = BPEModel.Scratch()
        text.withUTF8 { bytes in
            if rawMatcher.isEmpty {
                encodeText(bytes, isFirst: true, into: &out, scratch: &scratch)
                return
            }
            rawMatcher.split(bytes) { start, end, token in
                if let token {
                    out.append(token.id)
                } else {
                    encodeText(UnsafeBufferPointer(rebasing: bytes[start..<end]), isFirst: start == 0, into: &out,
                               scratch: &scratch)
                }
            }
        }
        return addSpecialTokens ? postProcessor.apply(out) : out
    }

    /// One piece of raw text between added tokens: normalize, split normalized added tokens, pre-tokenize, BPE.
    private func encodeText(_ text: UnsafeBufferPointer<UInt8>, isFirst: Bool, into out: inout [Int32],
                            scratch: inout BPEModel.Scratch)
    {
        if let normalized = normalizer?.apply(text) {
            normalized.withUnsafeBufferPointer { encodeNormalized($0, isFirst: isFirst, into: &out, scratch: &scratch) }
        } else {
            encodeNormalized(text, isFirst: isFirst, into: &out, scratch: &scratch)
        }
    }

    private func encodeNormalized(_ text: UnsafeBufferPointer<UInt8>, isFirst: Bool, into out: inout [Int32],
                                  scratch: inout BPEModel.Scratch)
    {
        if normalizedMatcher.isEmpty {
            preTokenizer.run(text, isFirst: isFirst) { model.tokenize($0, into: &out, scratch: &scratch) }
            return
        }
        normalizedMatcher.split(text) { start, end, token in
            if let token {
                out.append(token.id)
            } else {
                preTokenizer.run(UnsafeBufferPointer(rebasing: text[start..<end]), isFirst: isFirst && start == 0) {
                    model.tokenize($0, into: &out, scratch: &scratch)
                }
            }
        }
    }

    // MARK: Decoding

    /// Text for `ids`; invalid UTF-8 becomes U+FFFD and unknown ids are skipped. With `skipSpecialTokens`,
    /// special added tokens are left out.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool) -> String {
        let tokens = tokenStrings(ids, skipSpecialTokens: skipSpecialTokens)
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens).joined()
    }

    func tokenStrings(_ ids: some Sequence<Int32>, skipSpecialTokens: Bool) -> [String] {
        ids.compactMap { id -> String? in
            guard id >= 0, Int(id) < tokenStrings.count else { return nil }
            if skipSpecialTokens && specialFlags[Int(id)] { return nil }
            return tokenStrings[Int(id)]
        }
    }

    // MARK: Lookups

    /// The id of a token string: an added token's content or a vocabulary entry (byte-level tokens are spelled
    /// in the byte-level alphabet, e.g. `Ġthe`).
    public func tokenID(_ token: String) -> Int32? {
        addedIDs[token] ?? model.vocab[token]
    }

    /// The token string of an id, as stored in tokenizer.json.
    public func token(_ id: Int32) -> String? {
        guard id >= 0, Int(id) < tokenStrings.count else { return nil }
        return tokenStrings[Int(id)]
    }

    /// Whether `id` is a special added token (left out by `decode(_:skipSpecialTokens: true)`).
    public func isSpecial(_ id: Int32) -> Bool {
        id >= 0 && Int(id) < specialFlags.count && specialFlags[Int(id)]
    }

    /// The bytes a token stands for, when it is one byte-level or `<0xNN>` token (for streaming decoding).
    func rawBytes(of id: Int32) -> [UInt8]? {
        guard let string = token(id), addedIDs[string] == nil else { return nil }
        if model.byteLevel { return ByteLevelAlphabet.bytes(of: string) }
        return TokenDecoder.fallbackByte(string).map { [$0] }
    }
}
