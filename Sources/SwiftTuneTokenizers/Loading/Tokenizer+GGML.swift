extension Tokenizer {
    /// Builds a tokenizer from GGUF tokenizer metadata, following llama.cpp (`llama-vocab.cpp`) and the tokenizer.json
    /// files HF tokenizers builds from the same vocabularies.
    ///
    /// - `gpt2`: byte-level BPE; merges `"a b"` ranked by index. `tokenizer.ggml.pre` picks the pre-tokenizer:
    ///   `smollm` (digits one by one, then GPT-2's regex), `qwen2` and `deepseek-r1-qwen` (NFC, Qwen2's regex),
    ///   `llama-bpe`/`llama3`/`llama-v3` (Llama 3's regex, `ignore_merges`), `default`/`gpt-2` (GPT-2's regex, as
    ///   HF's ByteLevel; llama.cpp's own fallback for unknown names splits punctuation runs apart as well).
    /// - `llama`: SentencePiece vocabularies with scores. A pair of adjacent pieces merges when their concatenation
    ///   is a normal or user-defined token, highest score first (ties: lower id), as llama.cpp's SPM tokenizer
    ///   merges; spaces become `▁` with one prepended to each piece of text (`add_space_prefix`, default true);
    ///   characters outside the vocabulary become `<0xNN>` byte tokens (or `unk` without them).
    ///
    /// Control (3) and user-defined (4) tokens are added tokens matched in the raw text before anything else;
    /// control ones are special. BOS is added when `add_bos_token` says so (default: true for `llama` and the
    /// Llama 3 pre-tokenizers), EOS when `add_eos_token` does.
    ///
    /// Limits of the `llama` path: a character missing from the vocabulary turns into bytes at once, so it never
    /// merges with a neighbour (llama.cpp could merge it if the concatenation were a token; SentencePiece
    /// vocabularies hold every character of their pieces); Unigram-trained vocabularies are merged the same
    /// greedy way, as llama.cpp does, which is not SentencePiece's Viterbi segmentation.
    ///
    /// - Parameter source: the file named in error messages.
    public convenience init(vocabulary: GGMLVocabulary, source: String = "GGUF") throws {
        let tokens = vocabulary.tokens
        func invalid(_ key: String, _ expected: String, _ got: String) -> TokenizerError {
            .invalidValue(file: source, path: key, expected: expected, got: got)
        }
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else {
            throw invalid("tokenizer.ggml.tokens", "a non-empty list of tokens", "\(tokens.count) tokens")
        }
        let types = vocabulary.tokenTypes ?? []
        guard vocabulary.tokenTypes == nil || types.count == tokens.count else {
            throw invalid("tokenizer.ggml.token_type", "one type per token (\(tokens.count))", "\(types.count) types")
        }
        func checkedID(_ id: Int32?, _ name: String) throws -> Int32? {
            guard let id else { return nil }
            guard id >= 0, Int(id) < tokens.count else {
                throw invalid("tokenizer.ggml.\(name)_token_id", "an id below \(tokens.count)", "\(id)")
            }
            return id
        }
        let specials = SpecialTokens(
            bos: try checkedID(vocabulary.bosTokenID, "bos"), eos: try checkedID(vocabulary.eosTokenID, "eos"),
            pad: try checkedID(vocabulary.paddingTokenID, "padding"), unk: try checkedID(vocabulary.unknownTokenID, "unknown"),
            chatTemplate: vocabulary.chatTemplate)

        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() { vocab[token] = Int32(id) }  // a repeated string keeps its last id
        func type(_ id: Int) -> GGMLVocabulary.TokenType {
            types.isEmpty ? .normal : GGMLVocabulary.TokenType(rawValue: types[id]) ?? .normal
        }
        var added: [AddedToken] = []
        for id in tokens.indices where type(id) == .control || type(id) == .userDefined {
            added.append(AddedToken(id: Int32(id), content: tokens[id], special: type(id) == .control, lstrip: false,
                                    rstrip: false, singleWord: false, normalized: false))
        }
        if types.isEmpty {
            // Without types, the special ids are the only tokens known to be special (as HF's converter does).
            for id in Set([specials.bos, specials.eos, specials.unk].compactMap { $0 }).sorted() {
                added.append(AddedToken(id: id, content: tokens[Int(id)], special: true, lstrip: false, rstrip: false,
                                        singleWord: false, normalized: false))
            }
        }

        let model: BPEModel
        let normalizer: Normalizer?
        let steps: [PreTokenizerStep]
        let decoder: TokenDecoder
        let addsBOSByDefault: Bool
        switch vocabulary.model {
        case "gpt2":
            let pre = vocabulary.pre ?? "default"
            var ignoreMerges = false
            switch pre {
            case "smollm":
                (normalizer, steps) = (nil, [.digits(individualDigits: true), .byteLevel(addPrefixSpace: false, useRegex: true)])
            case "qwen2", "deepseek-r1-qwen":
                normalizer = .nfc
                steps = [.split(.llama3Style(maxDigits: 1, letterMarks: false), .isolated, invert: false),
                         .byteLevel(addPrefixSpace: false, useRegex: false)]
            case "llama-bpe", "llama3", "llama-v3":
                normalizer = nil
                steps = [.split(.llama3Style(maxDigits: 3, letterMarks: false), .isolated, invert: false),
                         .byteLevel(addPrefixSpace: false, useRegex: false)]
                ignoreMerges = true
            case "default", "gpt-2":
                (normalizer, steps) = (nil, [.byteLevel(addPrefixSpace: false, useRegex: true)])
            default:
                throw TokenizerError.unsupported(
                    file: source, path: "tokenizer.ggml.pre", got: "pre-tokenizer \(String(reflecting: pre))",
                    supported: GGMLVocabulary.supportedPreTokenizers.joined(separator: ", "),
                    hint: "each pre-tokenizer is a regex of its own; convert the model's tokenizer.json instead")
            }
            guard let merges = vocabulary.merges else {
                throw TokenizerError.missingKey(file: source, path: "tokenizer.ggml.merges",
                                                hint: "a gpt2 (byte-level BPE) vocabulary needs its merges")
            }
            model = BPEModel(vocab: vocab, merges: try Self.mergeTable(merges, vocab: vocab, source: source),
                             byteLevel: true, unkID: nil, byteFallback: false, fuseUnk: false, ignoreMerges: ignoreMerges)
            decoder = .byteLevel
            addsBOSByDefault = ignoreMerges
        case "llama":
            guard let scores = vocabulary.scores else {
                throw TokenizerError.missingKey(file: source, path: "tokenizer.ggml.scores",
                                                hint: "a llama (SentencePiece) vocabulary is merged by its scores")
            }
            guard scores.count == tokens.count else {
                throw invalid("tokenizer.ggml.scores", "one score per token (\(tokens.count))", "\(scores.count) scores")
            }
            let mergeable = tokens.indices.map { [.normal, .userDefined, .undefined].contains(type($0)) }
            model = BPEModel(vocab: vocab, merges: Self.scoreMerges(tokens: tokens, scores: scores, mergeable: mergeable, vocab: vocab),
                             byteLevel: false, unkID: specials.unk, byteFallback: true, fuseUnk: true, ignoreMerges: false)
            let spacePrefix = vocabulary.addSpacePrefix ?? true
            let replace = Normalizer.replace(.literal(Array(" ".utf8)), content: Array("▁".utf8))
            normalizer = spacePrefix ? .sequence([.prepend(Array("▁".utf8)), replace]) : replace
            steps = []
            decoder = .sequence([.replace(pattern: "▁", content: " "), .byteFallback, .fuse]
                                + (spacePrefix ? [.strip(content: " ", start: 1, stop: 0)] : []))
            addsBOSByDefault = true
        default:
            throw TokenizerError.unsupported(
                file: source, path: "tokenizer.ggml.model", got: "tokenizer model \(String(reflecting: vocabulary.model))",
                supported: "gpt2 (byte-level BPE) and llama (SentencePiece)",
                hint: "WordPiece (bert), Unigram (t5) and RWKV vocabularies are not implemented")
        }
        var postProcessor = PostProcessor.none
        if vocabulary.addBOSToken ?? addsBOSByDefault, let bos = specials.bos { postProcessor.prefix = [bos] }
        if vocabulary.addEOSToken ?? false, let eos = specials.eos { postProcessor.suffix = [eos] }
        self.init(model: model, normalizer: normalizer, preTokenizer: PreTokenizer(steps: steps), postProcessor: postProcessor,
                  decoder: decoder, addedTokens: added, specials: specials)
    }

    /// `"left right"` merges, rank = index, split on the first space (byte-level tokens hold no raw space).
    static func mergeTable(_ merges: [String], vocab: [String: Int32], source: String) throws -> PairTable {
        var table = PairTable(capacity: merges.count)
        for (rank, line) in merges.enumerated() {
            guard let space = line.firstIndex(of: " ") else {
                throw TokenizerError.invalidValue(file: source, path: "tokenizer.ggml.merges[\(rank)]",
                                                  expected: "\"left right\"", got: String(reflecting: line))
            }
            let left = String(line[..<space]), right = String(line[line.index(after: space)...])
            guard let leftID = vocab[left], let rightID = vocab[right], let mergedID = vocab[left + right] else {
                let missing = vocab[left] == nil ? left : vocab[right] == nil ? right : left + right
                throw TokenizerError.unknownToken(file: source, path: "tokenizer.ggml.merges[\(rank)]", token: missing)
            }
            table.set(UInt64(UInt32(leftID)) << 32 | UInt64(UInt32(rightID)), UInt64(rank) << 32 | UInt64(UInt32(mergedID)))
        }
        return table
    }

    /// SentencePiece merges from scores: every split of a mergeable token into two vocabulary pieces, ranked by the
    /// token's score (highest first), then by its id.
    static func scoreMerges(tokens: [String], scores: [Float], mergeable: [Bool], vocab: [String: Int32]) -> PairTable {
        var candidates: [(score: Float, merged: Int32, left: Int32, right: Int32)] = []
        for (id, token) in tokens.enumerated() where mergeable[id] {
            let scalars = token.unicodeScalars
            var split = scalars.index(after: scalars.startIndex)
            while split < scalars.endIndex {
                let left = String(String.UnicodeScalarView(scalars[..<split]))
                let right = String(String.UnicodeScalarView(scalars[split...]))
                if let leftID = vocab[left], let rightID = vocab[right], vocab[token] == Int32(id) {
                    candidates.append((scores[id], Int32(id), leftID, rightID))
                }
                split = scalars.index(after: split)
            }
        }
        candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.merged < $1.merged }
        var table = PairTable(capacity: candidates.count)
        for (rank, candidate) in candidates.enumerated() {
            let key = UInt64(UInt32(candidate.left)) << 32 | UInt64(UInt32(candidate.right))
            if table.lookup(key) == nil {
                table.set(key, UInt64(rank) << 32 | UInt64(UInt32(candidate.merged)))
            }
        }
        return table
    }
}
