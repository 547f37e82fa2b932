import Foundation
import SwiftTuneTokenizers
import Testing

/// Feeding ids one at a time gives chunks that concatenate to `decode`, and no chunk holds half a character.
@Suite struct StreamingDecoderTests {
    @Test(arguments: ["spm-bytefallback", "spm-metaspace", "llama3", "qwen2.5", "smollm2"])
    func chunksConcatenateToDecode(name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        for skip in [false, true] {
            for (index, text) in Fixtures.corpus.enumerated() where index % 5 == 0 {
                let ids = tokenizer.encode(text)
                var stream = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: skip)
                var chunks: [String] = []
                for id in ids { if let chunk = stream.append(id) { chunks.append(chunk) } }
                if let rest = stream.finish() { chunks.append(rest) }
                let whole = tokenizer.decode(ids, skipSpecialTokens: skip)
                #expect(sameScalars(chunks.joined(), whole), "\(name) line \(index + 1): \"\(escaped(chunks.joined()))\"")
                // A chunk never ends with a U+FFFD that the full text does not have at that place.
                let replacements = chunks.joined().unicodeScalars.filter { $0 == "\u{FFFD}" }.count
                #expect(replacements == whole.unicodeScalars.filter { $0 == "\u{FFFD}" }.count)
            }
        }
    }

    @Test func holdsBackPartialCharacters() throws {
        let tokenizer = try Fixtures.tokenizer("spm-bytefallback")
        let ids = tokenizer.encode("你", addSpecialTokens: false)  // ▁ <0xE4> <0xBD> <0xA0>
        var stream = StreamingDecoder(tokenizer: tokenizer)
        #expect(stream.append(ids[0]) == nil)  // "▁" alone: the leading space is stripped
        #expect(stream.append(ids[1]) == nil)
        #expect(stream.append(ids[2]) == nil)
        #expect(stream.append(ids[3]) == "你")
        #expect(stream.finish() == nil)
        var cut = StreamingDecoder(tokenizer: tokenizer)
        _ = cut.append(ids[1])
        #expect(cut.finish() == "\u{FFFD}")
    }

    @Test func byteLevelEmoji() throws {
        let tokenizer = try Fixtures.tokenizer("llama3")
        let text = "ok 👋🏻 done"
        var stream = StreamingDecoder(tokenizer: tokenizer)
        var chunks: [String] = []
        for id in tokenizer.encode(text, addSpecialTokens: false) { if let c = stream.append(id) { chunks.append(c) } }
        #expect(chunks.joined() == text)
        #expect(!chunks.contains { $0.unicodeScalars.contains("\u{FFFD}") })
    }
}
