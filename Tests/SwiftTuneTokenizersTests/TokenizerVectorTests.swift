import Foundation
import SwiftTuneTokenizers
import Testing

/// FORMATS.md §4's test vector and a few hand-checked cases (ids from HF tokenizers 0.23.3).
@Suite struct TokenizerVectorTests {
    static let sentence = "Hello, world! 12345 apples cost $3.50."

    @Test func qwen25() throws {
        let tokenizer = try Fixtures.tokenizer("qwen2.5")
        #expect(tokenizer.encode(Self.sentence) == [9707, 11, 1879, 0, 220, 16, 17, 18, 19, 20, 40676, 2783, 400, 18, 13, 20, 15, 13])
        #expect(tokenizer.vocabularySize == 151_665)
        #expect(tokenizer.eosTokenID == 151_645 && tokenizer.padTokenID == 151_643 && tokenizer.bosTokenID == nil)
        #expect(tokenizer.encode("<|im_start|>user\nHi<|im_end|>", addSpecialTokens: false).first == 151_644)
        #expect(tokenizer.tokenID("<tool_call>") == 151_657 && !tokenizer.isSpecial(151_657) && tokenizer.isSpecial(151_644))
        #expect(tokenizer.chatTemplate?.contains("<|im_start|>") == true)
    }

    @Test func llama3() throws {
        let tokenizer = try Fixtures.tokenizer("llama3")
        #expect(tokenizer.encode(Self.sentence) == [9906, 11, 1917, 0, 220, 4513, 1774, 41776, 2853, 400, 18, 13, 1135, 13])
        #expect(tokenizer.vocabularySize == 128_256)
        #expect(tokenizer.tokenID("<|eot_id|>") == 128_009)
        #expect(tokenizer.token(9906) == "Hello" && tokenizer.token(1917) == "Ġworld")
    }

    @Test func smolLM2() throws {
        let tokenizer = try Fixtures.tokenizer("smollm2")
        #expect(tokenizer.encode(Self.sentence) == [19556, 28, 905, 17, 216, 33, 34, 35, 36, 37, 13855, 1708, 1885, 35, 30, 37, 32, 30])
        #expect(tokenizer.bosTokenID == 1 && tokenizer.eosTokenID == 2)
    }

    /// Regressions from fuzzing against HF: U+0CDC (Unicode 17) is no letter for HF's Oniguruma (Unicode 16), so
    /// "'re" after it is a contraction; `'ſ` is a case-insensitive `'s` (ſ folds to s) in the Llama 3/Qwen regex.
    @Test func unicodeVersionAndCaseFolding() throws {
        let text = "a\u{0CDC}'re 'ſ x"
        #expect(try Fixtures.tokenizer("llama3").encode(text, addSpecialTokens: false) == [64, 56990, 250, 6, 265, 364, 129, 123, 865])
        #expect(try Fixtures.tokenizer("qwen2.5").encode(text, addSpecialTokens: false) == [64, 55890, 250, 6, 265, 364, 144815, 856])
        #expect(try Fixtures.tokenizer("smollm2").encode(text, addSpecialTokens: false)
            == [81, 171, 128, 246, 23, 257, 637, 144, 140, 1792])
    }

    @Test func sentencePieceByteFallback() throws {
        let tokenizer = try Fixtures.tokenizer("spm-bytefallback")
        let ids = tokenizer.encode("你好 $")
        // <s>, ▁, the six UTF-8 bytes of 你好 as <0xNN>, ▁, <0x24>.
        #expect(ids.first == 1)
        #expect(ids.dropFirst().map { tokenizer.token($0) ?? "?" }
            == ["▁", "<0xE4>", "<0xBD>", "<0xA0>", "<0xE5>", "<0xA5>", "<0xBD>", "▁", "<0x24>"])
        #expect(tokenizer.decode(ids, skipSpecialTokens: true) == "你好 $")
        #expect(tokenizer.decode([1] + ids.dropFirst(2), skipSpecialTokens: true) == "你好 $")
        #expect(tokenizer.decode(Array(ids[2...3]), skipSpecialTokens: true) == "\u{FFFD}\u{FFFD}")
        #expect(tokenizer.unkTokenID == 0)
    }

    /// One 1,200-character word (no pre-tokenizer in the Llama 2 layout) goes through the heap merge; ids from HF.
    @Test func longWord() throws {
        let tokenizer = try Fixtures.tokenizer("spm-bytefallback")
        let word = String(repeating: "abcabd", count: 200)
        #expect(tokenizer.encode(word) == [1, 674, 304, 420, 305] + Array(repeatElement([Int32](arrayLiteral: 420, 304, 420, 305), count: 199).joined()))
        #expect(tokenizer.decode(tokenizer.encode(word), skipSpecialTokens: true) == word)
    }
}

/// One tokenizer shared by several threads (the word cache is shared and locked) gives the same ids.
@Test func concurrentEncoding() throws {
    let tokenizer = try Fixtures.tokenizer("qwen2.5")
    let texts = Array(Fixtures.corpus.prefix(400))
    let expected = texts.map { tokenizer.encode($0, addSpecialTokens: false) }
    let results = ResultBox(count: 4)
    DispatchQueue.concurrentPerform(iterations: 4) { worker in
        let ids = texts.reversed().map { tokenizer.encode($0, addSpecialTokens: false) }
        results.set(worker, Array(ids.reversed()))
    }
    for worker in 0..<4 { #expect(results.get(worker) == expected) }
}

final class ResultBox: @unchecked Sendable {
    private var values: [[[Int32]]]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: [], count: count) }
    func set(_ index: Int, _ value: [[Int32]]) { lock.lock(); values[index] = value; lock.unlock() }
    func get(_ index: Int) -> [[Int32]] { lock.lock(); defer { lock.unlock() }; return values[index] }
}
