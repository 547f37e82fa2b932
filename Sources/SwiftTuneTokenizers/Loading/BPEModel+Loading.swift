import Foundation
import SwiftTuneJSON

extension BPEModel {
    /// Reads `model` from tokenizer.json. `byteLevel`: the pre-tokenizer has a ByteLevel step, so the vocabulary
    /// is spelled in the byte-level alphabet and words are merged from bytes.
    init(_ node: JSONCursor, byteLevel: Bool) throws {
        _ = try node.object()
        let type = try node["type"].optionalString() ?? (node["merges"].value != nil ? "BPE" : "unknown")
        guard type == "BPE" else {
            throw TokenizerError.unsupported(
                file: node.file, path: "\(node.path).type", got: "model \(String(reflecting: type))",
                supported: "BPE (byte-level like Llama 3/Qwen/SmolLM2, or SentencePiece-style with byte_fallback)",
                hint: "Unigram (T5, Gemma's SentencePiece) and WordPiece/WordLevel (BERT) vocabularies are not implemented")
        }
        if let dropout = node["dropout"].value?.numberValue, dropout.doubleValue > 0 {
            throw TokenizerError.unsupported(file: node.file, path: "\(node.path).dropout", got: "BPE dropout \(dropout)",
                                             supported: "dropout null or 0", hint: "dropout is a training-time option; set it to null")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try node[key].optionalString(), !affix.isEmpty {
                throw TokenizerError.unsupported(file: node.file, path: "\(node.path).\(key)", got: String(reflecting: affix),
                                                 supported: "null or \"\"", hint: "subword prefixes/suffixes are a WordPiece-era BPE variant")
            }
        }
        let vocab = try Self.parseVocab(node["vocab"])
        let merges = try Self.parseMerges(node["merges"], vocab: vocab)
        let unkToken = try node["unk_token"].optionalString()
        var unkID: Int32? = nil
        if let unkToken {
            guard let id = vocab[unkToken] else {
                throw TokenizerError.unknownToken(file: node.file, path: "\(node.path).unk_token", token: unkToken)
            }
            unkID = id
        }
        self.init(vocab: vocab, merges: merges, byteLevel: byteLevel, unkID: unkID,
                  byteFallback: try node["byte_fallback"].bool(default: false),
                  fuseUnk: try node["fuse_unk"].bool(default: false),
                  ignoreMerges: try node["ignore_merges"].bool(default: false))
    }

    /// A model from its vocabulary and merge table (`left << 32 | right` → `rank << 32 | merged`), building the
    /// byte and character lookups. `byteFallback` takes effect only when all 256 `<0xNN>` tokens exist.
    init(vocab: [String: Int32], merges: PairTable, byteLevel: Bool, unkID: Int32?, byteFallback: Bool, fuseUnk: Bool,
         ignoreMerges: Bool) {
        var tokenBytes = ByteSliceMap(capacity: vocab.count)
        for (token, id) in vocab {
            if byteLevel {
                if let bytes = ByteLevelAlphabet.bytes(of: token) { tokenBytes.insert(bytes, value: id) }
            } else {
                tokenBytes.insert(Array(token.utf8), value: id)
            }
        }
        let byteIDs: [Int32] = (0..<256).map { byte in
            vocab[String(Character(Unicode.Scalar(ByteLevelAlphabet.scalarOfByte[byte]) ?? " "))] ?? -1
        }
        let asciiIDs: [Int32] = (0..<128).map { vocab[String(Character(Unicode.Scalar(UInt8($0))))] ?? -1 }
        var byteFallbackIDs: [Int32]? = nil
        if byteFallback {
            let ids = (0..<256).map { vocab[String(format: "<0x%02X>", $0)] }
            if ids.allSatisfy({ $0 != nil }) { byteFallbackIDs = ids.map { $0 ?? -1 } }
        }
        self.init(vocab: vocab, tokenBytes: tokenBytes, merges: merges, byteLevel: byteLevel, byteIDs: byteIDs,
                  asciiIDs: asciiIDs, byteFallbackIDs: byteFallbackIDs, unkID: unkID, fuseUnk: fuseUnk,
                  ignoreMerges: ignoreMerges)
    }

    private static func parseVocab(_ node: JSONCursor) throws -> [String: Int32] {
        let members = try node.object()
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(members.count)
        for member in members {  // a repeated token takes its last id
            guard let number = member.value.integralValue, let id = Int32(exactly: number), id >= 0 else {
                throw node[member.key].mismatch("a token id in 0..<2^31")
            }
            vocab[member.key] = id
        }
        return vocab
    }

    /// `["a b", …]` (split on the first space) or `[["a", "b"], …]`; rank = index. A pair listed twice keeps its
    /// last rank, as HF's map does.
    private static func parseMerges(_ node: JSONCursor, vocab: [String: Int32]) throws -> PairTable {
        guard let list = node.value?.arrayValue else {
            if node.isNull { return PairTable(capacity: 0) }
            throw node.mismatch("an array of merges")
        }
        var table = PairTable(capacity: list.count)
        for (rank, entry) in list.enumerated() {
            let left: Substring
            let right: Substring
            if let line = entry.stringValue {
                guard let space = line.firstIndex(of: " ") else {
                    throw TokenizerError.invalidValue(file: node.file, path: "\(node.path)[\(rank)]",
                                                      expected: "\"left right\"", got: String(reflecting: line))
                }
                left = line[..<space]
                right = line[line.index(after: space)...]
            } else if let pair = entry.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue {
                left = Substring(a)
                right = Substring(b)
            } else {
                throw JSONCursor(file: node.file, path: "\(node.path)[\(rank)]", value: entry)
                    .mismatch("\"left right\" or [\"left\", \"right\"]")
            }
            guard let leftID = vocab[String(left)], let rightID = vocab[String(right)],
                  let mergedID = vocab[String(left) + String(right)]
            else {
                let missing = vocab[String(left)] == nil ? left : vocab[String(right)] == nil ? right : left + right
                throw TokenizerError.unknownToken(file: node.file, path: "\(node.path)[\(rank)]", token: String(missing))
            }
            table.set(UInt64(UInt32(leftID)) << 32 | UInt64(UInt32(rightID)),
                      UInt64(rank) << 32 | UInt64(UInt32(mergedID)))
        }
        return table
    }
}
