import Foundation

extension Tokenizer {
    /// Loads a tokenizer from a folder holding `tokenizer.json` (and optionally `tokenizer_config.json`,
    /// `special_tokens_map.json`), or from the path of a `tokenizer.json` (the other files are looked up next
    /// to it).
    public convenience init(contentsOf url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerError.fileNotFound(
                path: url.path, hint: "pass a model folder with tokenizer.json, or the tokenizer.json file itself")
        }
        let folder = isDirectory.boolValue ? url : url.deletingLastPathComponent()
        let file = isDirectory.boolValue ? url.appendingPathComponent("tokenizer.json") : url
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw TokenizerError.fileNotFound(
                path: file.path,
                hint: "swift-tune reads HF tokenizer.json; a folder with only tokenizer.model (SentencePiece) or "
                    + "vocab.json + merges.txt must be converted with HF transformers (save_pretrained) first")
        }
        func optional(_ name: String) throws -> (Data, String)? {
            let path = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path.path) else { return nil }
            return (try Self.read(path), path.path)
        }
        try self.init(tokenizerJSON: try Self.read(file), file: file.path, config: try optional("tokenizer_config.json"),
                      specialTokensMap: try optional("special_tokens_map.json"))
    }

    /// Builds a tokenizer from the contents of `tokenizer.json` and, optionally, `tokenizer_config.json` and
    /// `special_tokens_map.json` (each with the path used in error messages).
    public convenience init(tokenizerJSON: Data, file: String = "tokenizer.json", config: (Data, String)? = nil,
                            specialTokensMap: (Data, String)? = nil) throws
    {
        let root = try JSONCursor.parse(tokenizerJSON, file: file)
        _ = try root.object()
        let addedTokens = try Self.parseAddedTokens(root["added_tokens"])
        let preTokenizer = try PreTokenizer(steps: Self.parsePreTokenizer(root["pre_tokenizer"]))
        let byteLevel = preTokenizer.steps.contains { if case .byteLevel = $0 { return true } else { return false } }
        let model = try BPEModel(root["model"], byteLevel: byteLevel)
        let normalizer = try Self.parseNormalizer(root["normalizer"])
        let decoder = try Self.parseDecoder(root["decoder"])
        var lookup = model.vocab
        for token in addedTokens { lookup[token.content] = token.id }
        var postProcessor = try Self.parsePostProcessor(root["post_processor"], lookup: lookup)
        let settings = try TokenizerSettings(config: config, specialTokensMap: specialTokensMap, lookup: lookup)
        // transformers' Llama-style tokenizers rebuild the post-processor from add_bos_token/add_eos_token;
        // where the config asks for BOS/EOS that tokenizer.json's post-processor does not add, add it here.
        if settings.addBOSToken == true, let bos = settings.ids.bos, postProcessor.prefix.first != bos {
            postProcessor.prefix.insert(bos, at: 0)
        }
        if settings.addEOSToken == true, let eos = settings.ids.eos, postProcessor.suffix.last != eos {
            postProcessor.suffix.append(eos)
        }
        self.init(model: model, normalizer: normalizer, preTokenizer: preTokenizer, postProcessor: postProcessor,
                  decoder: decoder, addedTokens: addedTokens, specials: settings.ids)
    }

    static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError.fileNotFound(path: url.path, hint: "could not read it: \(error.localizedDescription)")
        }
    }

    // MARK: Components

    static func parseAddedTokens(_ node: JSONCursor) throws -> [AddedToken] {
        if node.isNull { return [] }
        return try node.array().map { entry in
            let id = try entry["id"].int()
            guard let id32 = Int32(exactly: id), id32 >= 0 else {
                throw entry["id"].mismatch("a token id in 0..<2^31")
            }
            return AddedToken(
                id: id32, content: try entry["content"].string(), special: try entry["special"].bool(default: false),
                lstrip: try entry["lstrip"].bool(default: false), rstrip: try entry["rstrip"].bool(default: false),
                singleWord: try entry["single_word"].bool(default: false),
                normalized: try entry["normalized"].bool(default: true))
        }
    }

    static func parseNormalizer(_ node: JSONCursor) throws -> Normalizer? {
        if node.isNull { return nil }
        let type = try node["type"].string()
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Prepend": return .prepend(Array(try node["prepend"].string().utf8))
        case "Replace":
            return .replace(try parsePattern(node["pattern"]), content: Array(try node["content"].string().utf8))
        case "Strip":
            return .strip(left: try node["strip_left"].bool(default: true), right: try node["strip_right"].bool(default: true))
        case "Sequence":
            return .sequence(try node["normalizers"].array().compactMap { try parseNormalizer($0) })
        default:
            throw TokenizerError.unsupported(
                file: node.file, path: "\(node.path).type", got: "normalizer \(String(reflecting: type))",
                supported: "NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip and Sequence",
                hint: "BERT-style and SentencePiece 'Precompiled' normalizers belong to WordPiece/Unigram models, "
                    + "which swift-tune does not load")
        }
    }

    /// A `{"String": …}` or `{"Regex": …}` pattern.
    static func parsePattern(_ node: JSONCursor) throws -> PatternScanner {
        if let literal = try node["String"].optionalString() { return .literal(Array(literal.utf8)) }
        if let regex = try node["Regex"].optionalString() {
            guard let scanner = PatternScanner.forRegex(regex) else {
                throw TokenizerError.invalidValue(file: node.file, path: "\(node.path).Regex",
                                                  expected: "a regex NSRegularExpression can compile",
                                                  got: String(reflecting: regex))
            }
            return scanner
        }
        throw node.mismatch("an object with \"String\" or \"Regex\"")
    }

    static func parsePreTokenizer(_ node: JSONCursor) throws -> [PreTokenizerStep] {
        if node.isNull { return [] }
        let type = try node["type"].string()
        switch type {
        case "Sequence":
            return try node["pretokenizers"].array().flatMap { try parsePreTokenizer($0) }
        case "Split":
            let behaviorName = try node["behavior"].string()
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw node["behavior"].mismatch("one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous")
            }
            return [.split(try parsePattern(node["pattern"]), behavior, invert: try node["invert"].bool(default: false))]
        case "ByteLevel":
            return [.byteLevel(addPrefixSpace: try node["add_prefix_space"].bool(default: true),
                               useRegex: try node["use_regex"].bool(default: true))]
        case "Digits":
            return [.digits(individualDigits: try node["individual_digits"].bool(default: false))]
        case "Metaspace":
            return [.metaspace(replacement: Array(try node["replacement"].string().utf8),
                               prependScheme: try parsePrependScheme(node), split: try node["split"].bool(default: true))]
        case "WhitespaceSplit":
            return [.whitespaceSplit]
        default:
            throw TokenizerError.unsupported(
                file: node.file, path: "\(node.path).type", got: "pre-tokenizer \(String(reflecting: type))",
                supported: "Split, ByteLevel, Digits, Metaspace, WhitespaceSplit and Sequence",
                hint: "the byte-level (Llama 3, Qwen, SmolLM2) and SentencePiece-style (Llama 2, Mistral) tokenizers use only these")
        }
    }

    /// `prepend_scheme`, or the older `add_prefix_space` boolean.
    static func parsePrependScheme(_ node: JSONCursor) throws -> PrependScheme {
        if let name = try node["prepend_scheme"].optionalString() {
            guard let scheme = PrependScheme(rawValue: name) else {
                throw node["prepend_scheme"].mismatch("one of always, first, never")
            }
            return scheme
        }
        return try node["add_prefix_space"].bool(default: true) ? .always : .never
    }

    static func parsePostProcessor(_ node: JSONCursor, lookup: [String: Int32]) throws -> PostProcessor {
        if node.isNull { return .none }
        let type = try node["type"].string()
        switch type {
        case "ByteLevel":
            return .none
        case "Sequence":
            var result = PostProcessor.none
            for step in try node["processors"].array() {
                let next = try parsePostProcessor(step, lookup: lookup)
                result.prefix += next.prefix
                result.suffix = next.suffix + result.suffix
            }
            return result
        case "TemplateProcessing":
            let specials = node["special_tokens"]
            var result = PostProcessor.none
            var seenSequence = false
            for item in try node["single"].array() {
                if !item["Sequence"].isNull {
                    seenSequence = true
                    continue
                }
                let name = try item["SpecialToken"]["id"].string()
                let entry = specials[name]
                let ids = try entry.isNull ? [] : entry["ids"].array().map { try Int32($0.int()) }
                if entry.isNull {
                    throw TokenizerError.unknownToken(file: node.file, path: "\(node.path).special_tokens", token: name)
                }
                if seenSequence { result.suffix += ids } else { result.prefix += ids }
            }
            return result
        case "RobertaProcessing", "BertProcessing":
            let cls = try node["cls"].array()
            let sep = try node["sep"].array()
            guard cls.count == 2, sep.count == 2 else { throw node["cls"].mismatch("a [token, id] pair") }
            return PostProcessor(prefix: [Int32(try cls[1].int())], suffix: [Int32(try sep[1].int())])
        default:
            throw TokenizerError.unsupported(
                file: node.file, path: "\(node.path).type", got: "post-processor \(String(reflecting: type))",
                supported: "TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing and Sequence",
                hint: "pass addSpecialTokens: false and add the special tokens yourself")
        }
    }

    static func parseDecoder(_ node: JSONCursor) throws -> TokenDecoder? {
        if node.isNull { return nil }
        let type = try node["type"].string()
        switch type {
        case "ByteLevel": return .byteLevel
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Replace":
            guard let literal = try node["pattern"]["String"].optionalString() else {
                throw node["pattern"].mismatch("a {\"String\": …} pattern (regex replacements in decoders are not supported)")
            }
            return .replace(pattern: literal, content: try node["content"].string())
        case "Strip":
            let content = try node["content"].string()
            guard content.unicodeScalars.count == 1, let scalar = content.unicodeScalars.first else {
                throw node["content"].mismatch("one character")
            }
            return .strip(content: scalar, start: try node["start"].int(), stop: try node["stop"].int())
        case "Metaspace":
            let replacement = try node["replacement"].string()
            guard replacement.unicodeScalars.count == 1, let scalar = replacement.unicodeScalars.first else {
                throw node["replacement"].mismatch("one character")
            }
            return .metaspace(replacement: scalar, prependScheme: try parsePrependScheme(node))
        case "Sequence":
            return .sequence(try node["decoders"].array().compactMap { try parseDecoder($0) })
        default:
            throw TokenizerError.unsupported(
                file: node.file, path: "\(node.path).type", got: "decoder \(String(reflecting: type))",
                supported: "ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace and Sequence",
                hint: "WordPiece/CTC decoders belong to models swift-tune does not load")
        }
    }
}
