import Foundation
import SwiftTuneJSON

/// Conversions between HF `tokenizer.json` (byte-level BPE) and GGUF's `tokenizer.ggml.*` vocabulary, both ways, for
/// exporting: an HF model to GGUF (as llama.cpp's `convert_hf_to_gguf.py` fills the vocabulary), and a GGUF model to
/// an HF folder (the `tokenizer.json` HF `tokenizers` would build from the same tokens and merges).
///
/// Only byte-level BPE (`tokenizer.ggml.model` `gpt2`) goes either way. The pre-tokenizer is matched by structure to
/// the `tokenizer.ggml.pre` names llama.cpp knows (its converter hashes a test encoding instead): `smollm`, `qwen2`,
/// `llama-bpe`, `gpt-2` (FORMATS.md §3–4).
extension GGMLVocabulary {
    /// Qwen2's pre-tokenizer regex (single digits).
    public static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    /// Llama 3's pre-tokenizer regex (digits in groups of up to three).
    public static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    // MARK: HF → GGUF

    /// The GGUF vocabulary of an HF byte-level BPE tokenizer.
    ///
    /// - Tokens: one per id up to `vocabularySize` (the embedding rows), `[PAD<id>]` (type unused) for ids the tokenizer
    ///   does not have, as the converter pads them.
    /// - Types: added tokens are control (3) when special or spelled `<|…|>`, else user-defined (4); others normal (1).
    /// - Special ids from `tokenizer_config.json` (`bos_token`, `eos_token`, `pad_token`, `unk_token`), else
    ///   `defaultBOS`/`defaultEOS` (config.json's); `add_bos_token`/`add_eos_token` from it, else whether the
    ///   post-processor adds them (written explicitly, so llama.cpp does not guess); `chat_template` from it.
    ///
    /// - Throws: `TokenizerError.unsupported` for a tokenizer that is not byte-level BPE or whose pre-tokenizer is not
    ///   one of the four above, naming what was found.
    public init(tokenizerJSON: Data, file: String = "tokenizer.json", tokenizerConfig: Data? = nil,
                vocabularySize: Int, defaultBOS: Int? = nil, defaultEOS: Int? = nil) throws {
        let root = try Self.parse(tokenizerJSON, file: file)
        let model = root["model"] ?? .null
        guard model["type"]?.stringValue == "BPE", case let .object(vocabMembers)? = model["vocab"] else {
            throw TokenizerError.unsupported(file: file, path: "model.type", got: model["type"]?.summary ?? "nothing",
                                             supported: "BPE", hint: "only byte-level BPE tokenizers can be written to GGUF")
        }
        let pre = try Self.preTokenizerName(root, file: file)
        var idToken: [Int: String] = [:]
        for member in vocabMembers {
            guard let id = member.value.intValue else {
                throw TokenizerError.invalidValue(file: file, path: "model.vocab[\(member.key)]", expected: "an id",
                                                  got: member.value.summary)
            }
            if idToken[id] == nil { idToken[id] = member.key }
        }
        var added: [Int: (content: String, special: Bool)] = [:]
        for entry in root["added_tokens"]?.arrayValue ?? [] {
            guard let id = entry["id"]?.intValue, let content = entry["content"]?.stringValue else { continue }
            added[id] = (content, entry["special"]?.boolValue ?? false)
            idToken[id] = content
        }
        let count = max(vocabularySize, (idToken.keys.max() ?? -1) + 1)
        var tokens: [String] = [], types: [Int32] = []
        tokens.reserveCapacity(count)
        types.reserveCapacity(count)
        for id in 0..<count {
            if let token = added[id] {
                let looksSpecial = token.content.hasPrefix("<|") && token.content.hasSuffix("|>")
                tokens.append(token.content)
                types.append((token.special || looksSpecial ? TokenType.control : TokenType.userDefined).rawValue)
            } else if let token = idToken[id] {
                tokens.append(token)
                types.append(TokenType.normal.rawValue)
            } else {
                tokens.append("[PAD\(id)]")
                types.append(TokenType.unused.rawValue)
            }
        }
        var merges: [String] = []
        for (rank, merge) in (model["merges"]?.arrayValue ?? []).enumerated() {
            if let text = merge.stringValue {
                merges.append(text)
            } else if let pair = merge.arrayValue, pair.count == 2, let left = pair[0].stringValue, let right = pair[1].stringValue {
                merges.append(left + " " + right)
            } else {
                throw TokenizerError.invalidValue(file: file, path: "model.merges[\(rank)]", expected: "\"a b\" or [\"a\", \"b\"]",
                                                  got: merge.summary)
            }
        }
        let config = try tokenizerConfig.map { try Self.parse($0, file: "tokenizer_config.json") } ?? .object([])
        var lookup: [String: Int] = [:]
        for (id, token) in tokens.enumerated() where lookup[token] == nil { lookup[token] = id }
        func special(_ key: String) -> Int32? {
            let value = config[key]
            let content = value?.stringValue ?? value?["content"]?.stringValue
            return content.flatMap { lookup[$0] }.flatMap { Int32(exactly: $0) }
        }
        let addsBOS = Self.postProcessorAddsPrefix(root["post_processor"])
        let template: String?
        if let text = config["chat_template"]?.stringValue {
            template = text
        } else {
            let named = config["chat_template"]?.arrayValue ?? []
            let chosen = named.first { $0["name"]?.stringValue == "default" } ?? named.first
            template = chosen?["template"]?.stringValue
        }
        self.init(model: "gpt2", pre: pre, tokens: tokens, tokenTypes: types, merges: merges,
                  bosTokenID: special("bos_token") ?? defaultBOS.flatMap { Int32(exactly: $0) },
                  eosTokenID: special("eos_token") ?? defaultEOS.flatMap { Int32(exactly: $0) },
                  unknownTokenID: special("unk_token"), paddingTokenID: special("pad_token"),
                  addBOSToken: config["add_bos_token"]?.boolValue ?? addsBOS,
                  addEOSToken: config["add_eos_token"]?.boolValue ?? false, chatTemplate: template)
    }

    /// `tokenizer.ggml.pre` for the pre-tokenizer (and normalizer) of a byte-level tokenizer.json.
    static func preTokenizerName(_ root: JSONValue, file: String) throws -> String {
        let pre = root["pre_tokenizer"] ?? .null
        let steps = pre["type"]?.stringValue == "Sequence" ? pre["pretokenizers"]?.arrayValue ?? [] : [pre]
        let types = steps.map { $0["type"]?.stringValue ?? "" }
        let normalizer = root["normalizer"]?["type"]?.stringValue
        if types == ["ByteLevel"], steps[0]["use_regex"]?.boolValue ?? true, normalizer == nil { return "gpt-2" }
        if types == ["Digits", "ByteLevel"], steps[0]["individual_digits"]?.boolValue == true,
           steps[1]["use_regex"]?.boolValue ?? true, normalizer == nil {
            return "smollm"
        }
        if types == ["Split", "ByteLevel"], steps[1]["use_regex"]?.boolValue == false {
            let pattern = steps[0]["pattern"]?["Regex"]?.stringValue
            if pattern == qwen2Pattern, normalizer == "NFC" { return "qwen2" }
            if pattern == llama3Pattern, normalizer == nil { return "llama-bpe" }
        }
        throw TokenizerError.unsupported(
            file: file, path: "pre_tokenizer", got: "\(types) with normalizer \(normalizer ?? "none")",
            supported: "GPT-2 ByteLevel, SmolLM2 (Digits + ByteLevel), Qwen2 and Llama 3 (Split + ByteLevel)",
            hint: "llama.cpp selects a pre-tokenizer by name (tokenizer.ggml.pre); this one has no name here")
    }

    /// Whether a TemplateProcessing post-processor (alone or in a Sequence) puts a special token before `$A`.
    private static func postProcessorAddsPrefix(_ node: JSONValue?) -> Bool? {
        guard let node, let type = node["type"]?.stringValue else { return nil }
        if type == "Sequence" {
            return (node["processors"]?.arrayValue ?? []).compactMap(postProcessorAddsPrefix).contains(true) ? true : nil
        }
        guard type == "TemplateProcessing", let single = node["single"]?.arrayValue, let first = single.first else { return nil }
        return first["SpecialToken"] != nil
    }

    private static func parse(_ data: Data, file: String) throws -> JSONValue {
        do {
            return try JSONParser.parse(data, options: .python)
        } catch {
            throw TokenizerError.invalidJSON(file: file, detail: "\(error)")
        }
    }

    // MARK: GGUF → HF

    /// A `tokenizer.json` that HF `tokenizers` (and `Tokenizer(tokenizerJSON:)`) load as the same tokenizer:
    /// BPE over the tokens (unused `[PAD…]` rows left out) with the merges, control and user-defined tokens as added
    /// tokens, and the normalizer, pre-tokenizer and decoder of `pre`; a TemplateProcessing post-processor adds BOS when
    /// `addBOSToken` says so.
    ///
    /// - Throws: `TokenizerError.unsupported` for SentencePiece (`llama`) vocabularies, whose tokenizer.json needs
    ///   the original tokenizer.model, and for pre-tokenizers other than `gpt-2`/`default`, `smollm`, `qwen2`,
    ///   `deepseek-r1-qwen` and the Llama 3 names.
    public func huggingFaceTokenizerJSON(file: String = "GGUF") throws -> String {
        guard model == "gpt2", let merges else {
            throw TokenizerError.unsupported(
                file: file, path: "tokenizer.ggml.model", got: "\"\(model)\"\(merges == nil ? " without merges" : "")",
                supported: "gpt2 (byte-level BPE) with merges",
                hint: "a SentencePiece vocabulary needs its original tokenizer.model; copy it from the base model's repository")
        }
        let byteLevel = { (regex: Bool, trim: Bool) -> JSONValue in
            ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": .bool(trim), "use_regex": .bool(regex)]
        }
        let split = { (pattern: String) -> JSONValue in
            ["type": "Split", "pattern": ["Regex": .string(pattern)], "behavior": "Isolated", "invert": false]
        }
        let normalizer: JSONValue, preTokenizer: JSONValue
        var ignoreMerges = false
        switch pre ?? "default" {
        case "default", "gpt-2":
            (normalizer, preTokenizer) = (.null, byteLevel(true, true))
        case "smollm":
            normalizer = .null
            preTokenizer = ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], byteLevel(true, true)]]
        case "qwen2", "deepseek-r1-qwen":
            normalizer = ["type": "NFC"]
            preTokenizer = ["type": "Sequence", "pretokenizers": [split(Self.qwen2Pattern), byteLevel(false, false)]]
        case "llama-bpe", "llama3", "llama-v3":
            normalizer = .null
            preTokenizer = ["type": "Sequence", "pretokenizers": [split(Self.llama3Pattern), byteLevel(false, false)]]
            ignoreMerges = true
        case let other:
            throw TokenizerError.unsupported(file: file, path: "tokenizer.ggml.pre", got: "\"\(other)\"",
                                             supported: "default, gpt-2, smollm, qwen2, deepseek-r1-qwen, llama-bpe",
                                             hint: "each pre-tokenizer is a regex of its own")
        }
        let types = tokenTypes ?? []
        func type(_ id: Int) -> TokenType { id < types.count ? TokenType(rawValue: types[id]) ?? .normal : .normal }
        var vocab: [JSONMember] = []
        var seen = Set<String>()
        var addedTokens: [JSONValue] = []
        for (id, token) in tokens.enumerated() where type(id) != .unused && seen.insert(token).inserted {
            vocab.append(JSONMember(key: token, value: .number(JSONNumber(id))))
            if type(id) == .control || type(id) == .userDefined {
                addedTokens.append(["id": .number(JSONNumber(id)), "content": .string(token), "single_word": false,
                                    "lstrip": false, "rstrip": false, "normalized": false,
                                    "special": .bool(type(id) == .control)])
            }
        }
        var postProcessor: JSONValue = byteLevel(true, false)
        if addBOSToken == true, let bos = bosTokenID, Int(bos) < tokens.count {
            let name = JSONValue.string(tokens[Int(bos)])
            postProcessor = [
                "type": "TemplateProcessing",
                "single": [["SpecialToken": ["id": name, "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                "pair": [["SpecialToken": ["id": name, "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]],
                         ["SpecialToken": ["id": name, "type_id": 1]], ["Sequence": ["id": "B", "type_id": 1]]],
                "special_tokens": .object([JSONMember(key: tokens[Int(bos)], value: [
                    "id": name, "ids": [.number(JSONNumber(Int(bos)))], "tokens": [name]])]),
            ]
        }
        let root: JSONValue = [
            "version": "1.0", "truncation": .null, "padding": .null, "added_tokens": .array(addedTokens),
            "normalizer": normalizer, "pre_tokenizer": preTokenizer, "post_processor": postProcessor,
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": [
                "type": "BPE", "dropout": .null, "unk_token": .null, "continuing_subword_prefix": .null,
                "end_of_word_suffix": .null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": .bool(ignoreMerges),
                "vocab": .object(vocab),
                "merges": .array(merges.map { merge in
                    let parts = merge.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                    return .array(parts.map { .string(String($0)) })
                }),
            ],
        ]
        return root.pythonJSONString(indent: 2)
    }

    /// A `tokenizer_config.json` naming the special tokens and carrying the chat template.
    public func huggingFaceTokenizerConfig(modelMaxLength: Int) -> String {
        func token(_ id: Int32?) -> JSONValue {
            guard let id, id >= 0, Int(id) < tokens.count else { return .null }
            return .string(tokens[Int(id)])
        }
        let root: JSONValue = [
            "add_bos_token": .bool(addBOSToken ?? false), "add_eos_token": .bool(addEOSToken ?? false),
            "bos_token": token(bosTokenID), "chat_template": chatTemplate.map(JSONValue.string) ?? .null,
            "clean_up_tokenization_spaces": false, "eos_token": token(eosTokenID),
            "model_max_length": .number(JSONNumber(modelMaxLength)), "pad_token": token(paddingTokenID),
            "tokenizer_class": "PreTrainedTokenizerFast", "unk_token": token(unknownTokenID),
        ]
        return root.pythonJSONString(indent: 2) + "\n"
    }
}
