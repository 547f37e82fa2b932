import Foundation
import SwiftTuneCheckpoint
import SwiftTuneHub
import SwiftTuneTokenizers
import Testing

/// Tokenizers built from GGUF metadata: SmolLM2's byte-level BPE against the tokenizer.json HF tokenizers built from
/// the same GGUF, a SentencePiece vocabulary against SentencePiece itself, and the refusals.
@Suite struct GGUFTokenizerTests {
    /// Encodes every corpus line and compares with `expected`, reporting the first few differences.
    static func expectIDs(_ tokenizer: Tokenizer, _ expected: [[Int32]], prefix: [Int32] = [], _ label: String,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        let corpus = HubFixtures.corpus
        guard corpus.count >= 2000, expected.count == corpus.count else {
            Issue.record("\(label): corpus has \(corpus.count) lines, goldens \(expected.count)", sourceLocation: sourceLocation)
            return
        }
        var mismatches = 0
        for (index, text) in corpus.enumerated() {
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            let full = tokenizer.encode(text, addSpecialTokens: true)
            if ids != expected[index] || full != prefix + expected[index] {
                mismatches += 1
                if mismatches <= 5 {
                    let got = Array(ids.prefix(12)), want = Array(expected[index].prefix(12))
                    let counts = "\(ids.count) vs \(expected[index].count) ids"
                    Issue.record("\(label) line \(index + 1) \"\(escaped(text))\": got \(got), expected \(want) (\(counts))",
                                 sourceLocation: sourceLocation)
                }
            }
        }
        #expect(mismatches == 0, "\(label): \(mismatches) of \(corpus.count) lines differ", sourceLocation: sourceLocation)
    }

    @Test func smolLM2MatchesItsTokenizerJSON() throws {
        let file = try GGUFFile(url: HubFixtures.requireSmolLM2())
        let tokenizer = try Tokenizer(gguf: file)
        let goldens = try HubFixtures.ids(HubFixtures.fixtures.appendingPathComponent("tokenizers/goldens/smollm2.ids"))
        Self.expectIDs(tokenizer, goldens, "SmolLM2 GGUF vs HF goldens")

        let json = HubFixtures.smolLM2TokenizerJSON.appendingPathComponent("tokenizer.json")
        try #require(FileManager.default.fileExists(atPath: json.path),
                     "\(json.path) is missing: run scripts/fetch_test_tokenizers.sh")
        let reference = try Tokenizer(contentsOf: HubFixtures.smolLM2TokenizerJSON)
        #expect(tokenizer.vocabularySize == reference.vocabularySize)
        #expect(tokenizer.bosTokenID == 1 && tokenizer.eosTokenID == 2 && tokenizer.padTokenID == 2)
        #expect(tokenizer.bosTokenID == reference.bosTokenID && tokenizer.eosTokenID == reference.eosTokenID)
        #expect(tokenizer.padTokenID == reference.padTokenID)
        #expect(tokenizer.chatTemplate == reference.chatTemplate && tokenizer.chatTemplate?.contains("<|im_start|>") == true)
        #expect((0..<17).allSatisfy { tokenizer.isSpecial(Int32($0)) } && !tokenizer.isSpecial(17))
        var decodeMismatches = 0
        for (index, text) in HubFixtures.corpus.enumerated() {
            let ids = goldens[index]
            for skip in [false, true] where tokenizer.decode(ids, skipSpecialTokens: skip) != reference.decode(ids, skipSpecialTokens: skip) {
                decodeMismatches += 1
                if decodeMismatches <= 3 { Issue.record("decode differs on line \(index + 1) \"\(escaped(text))\" (skip \(skip))") }
            }
        }
        #expect(decodeMismatches == 0)
        let chat = "<|im_start|>user\nHi<|im_end|>\n"
        #expect(tokenizer.encode(chat, addSpecialTokens: true) == reference.encode(chat, addSpecialTokens: true))
        #expect(tokenizer.encode(chat, addSpecialTokens: true).first == 1)
    }

    /// A SentencePiece BPE vocabulary (scripts/golden/make_gguf_tokenizer_goldens.py) against SentencePiece 0.2.1,
    /// with user-defined and control tokens split out first as llama.cpp does.
    @Test func sentencePieceVocabularyMatchesSentencePiece() throws {
        let file = try GGUFFile(url: HubFixtures.gguf.appendingPathComponent("spm_tokenizer.gguf"))
        let tokenizer = try Tokenizer(gguf: file)
        let goldens = try HubFixtures.ids(HubFixtures.gguf.appendingPathComponent("spm_tokenizer.ids"))
        Self.expectIDs(tokenizer, goldens, prefix: [1], "SentencePiece GGUF")
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: HubFixtures.gguf.appendingPathComponent("spm_tokenizer.json")))
        let decoded = try #require((meta as? [String: Any])?["decode_skip_special"] as? [String: String])
        var mismatches = 0
        for (index, text) in HubFixtures.corpus.enumerated() {
            let expected = decoded[String(index)] ?? text
            let got = tokenizer.decode(goldens[index], skipSpecialTokens: true)
            if !got.unicodeScalars.elementsEqual(expected.unicodeScalars) {
                mismatches += 1
                if mismatches <= 3 { Issue.record("decode line \(index + 1): \"\(escaped(got))\" vs \"\(escaped(expected))\"") }
            }
        }
        #expect(mismatches == 0)
        #expect(tokenizer.bosTokenID == 1 && tokenizer.eosTokenID == 2)
        #expect(tokenizer.tokenID("<|im_start|>") != nil && !tokenizer.isSpecial(tokenizer.tokenID("<|im_start|>") ?? 0))
        #expect(tokenizer.isSpecial(1) && tokenizer.chatTemplate?.contains("<|im_start|>") == true)
    }

    /// A tiny byte-level vocabulary: the 256 alphabet characters, a few merges, and a control token.
    static func byteLevel(pre: String?, merges: [String] = ["Ġ t", "Ġt h", "1 2", "12 3"], extra: [String] = ["Ġt", "Ġth", "12", "123"],
                          types: [Int32]? = nil) -> GGMLVocabulary {
        let tokens = byteLevelCharacters + extra + ["<|end|>"]
        return GGMLVocabulary(model: "gpt2", pre: pre, tokens: tokens,
                              tokenTypes: types ?? Array(repeating: 1, count: tokens.count - 1) + [3], merges: merges,
                              eosTokenID: Int32(tokens.count - 1))
    }

    @Test func preTokenizerVariants() throws {
        let id = { (tokenizer: Tokenizer, token: String) in tokenizer.tokenID(token) ?? -1 }
        // smollm: digits one by one, so "123" is never merged.
        let smollm = try Tokenizer(vocabulary: Self.byteLevel(pre: "smollm"))
        #expect(smollm.encode("123", addSpecialTokens: false) == ["1", "2", "3"].map { id(smollm, $0) })
        // llama-bpe: groups of up to three digits, ignore_merges, BOS by default when it has one.
        let llama = try Tokenizer(vocabulary: Self.byteLevel(pre: "llama-bpe"))
        #expect(llama.encode("123", addSpecialTokens: false) == [id(llama, "123")])
        // qwen2: single digits; default: GPT-2's regex keeps digit runs together.
        let qwen = try Tokenizer(vocabulary: Self.byteLevel(pre: "qwen2"))
        #expect(qwen.encode("12", addSpecialTokens: false) == [id(qwen, "1"), id(qwen, "2")])
        let gpt2 = try Tokenizer(vocabulary: Self.byteLevel(pre: nil))
        #expect(gpt2.encode("123 the", addSpecialTokens: false) == [id(gpt2, "123"), id(gpt2, "Ġth"), id(gpt2, "e")])
        // Control tokens are special added tokens matched in raw text.
        #expect(gpt2.encode("a<|end|>", addSpecialTokens: false) == [id(gpt2, "a"), id(gpt2, "<|end|>")])
        #expect(gpt2.decode(gpt2.encode("a<|end|> the"), skipSpecialTokens: true) == "a the")
        var bos = Self.byteLevel(pre: "qwen2")
        bos.bosTokenID = bos.eosTokenID
        bos.addBOSToken = true
        bos.addEOSToken = true
        let both = try Tokenizer(vocabulary: bos)
        #expect(both.encode("a") == [id(both, "<|end|>"), id(both, "a"), id(both, "<|end|>")])
    }

    @Test func refusals() throws {
        func message(_ vocabulary: GGMLVocabulary) -> String {
            do {
                _ = try Tokenizer(vocabulary: vocabulary, source: "m.gguf")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let unknownPre = message(Self.byteLevel(pre: "falcon"))
        #expect(unknownPre.contains("m.gguf") && unknownPre.contains("tokenizer.ggml.pre") && unknownPre.contains("\"falcon\"")
                && unknownPre.contains("smollm, qwen2"))
        var bert = Self.byteLevel(pre: nil)
        bert.model = "bert"
        #expect(message(bert).contains("tokenizer.ggml.model") && message(bert).contains("gpt2 (byte-level BPE) and llama"))
        var noMerges = Self.byteLevel(pre: nil)
        noMerges.merges = nil
        #expect(message(noMerges).contains("tokenizer.ggml.merges"))
        let badMerge = message(Self.byteLevel(pre: nil, merges: ["Ġ t", "x yz"]))
        #expect(badMerge.contains("tokenizer.ggml.merges[1]") && badMerge.contains("\"yz\""))
        let types = message(Self.byteLevel(pre: nil, types: [1, 1]))
        #expect(types.contains("tokenizer.ggml.token_type") && types.contains("2 types"))
        var badID = Self.byteLevel(pre: nil)
        badID.bosTokenID = 100_000
        #expect(message(badID).contains("tokenizer.ggml.bos_token_id") && message(badID).contains("100000"))
        let spm = GGMLVocabulary(model: "llama", tokens: ["<unk>", "a"])
        #expect(message(spm).contains("tokenizer.ggml.scores"))
    }

    @Test func aGGUFWithoutTokenizerIsNamed() throws {
        let directory = try TemporaryDirectory()
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        try writer.write(to: directory.file("bare.gguf"))
        do {
            _ = try Tokenizer(gguf: GGUFFile(url: directory.file("bare.gguf")))
            Issue.record("expected an error")
        } catch let error as HubError {
            #expect(error == .missingTokenizer(path: directory.file("bare.gguf").path, key: "tokenizer.ggml.model"))
            #expect(error.description.contains("no tokenizer"))
        }
    }
}
