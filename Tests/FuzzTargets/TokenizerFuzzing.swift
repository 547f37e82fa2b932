import Foundation
import SwiftTuneTokenizers

/// The `tokenizer` target. Up to the first NUL byte, the input is a `tokenizer.json` (loaded, then the rest of the
/// input encoded and decoded with it); with no NUL, the whole input is text for the fixture tokenizer (the tiny
/// Qwen2's byte-level BPE). The text's bytes are also decoded as token ids (any i32, out of range included).
/// Invariant: a byte-level tokenizer without a normalizer gives back valid UTF-8 text exactly.
enum TokenizerFuzzing {
    static let fixture: Tokenizer? = try? Tokenizer(contentsOf: FuzzFixtures.qwen2)

    static func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        FuzzErrors.run {
            let tokenizer: Tokenizer
            let text: UnsafeRawBufferPointer
            var checksRoundTrip = false
            if let nul = bytes.firstIndex(of: 0) {
                tokenizer = try Tokenizer(tokenizerJSON: Data(bytes[..<nul]), file: "/fuzz/tokenizer.json")
                text = UnsafeRawBufferPointer(rebasing: bytes[(nul + 1)...])
            } else {
                guard let fixture else { return .unexpected("the fixture tokenizer \(FuzzFixtures.qwen2.path) did not load") }
                tokenizer = fixture
                text = bytes
                checksRoundTrip = true
            }
            let string = String(decoding: text, as: UTF8.self)
            let ids = tokenizer.encode(string, addSpecialTokens: true)
            let decoded = tokenizer.decode(tokenizer.encode(string, addSpecialTokens: false), skipSpecialTokens: false)
            if checksRoundTrip, String(validating: text, as: UTF8.self) != nil, decoded != string {
                return .unexpected("round trip changed the text: \(string.debugDescription) → \(decoded.debugDescription)")
            }
            _ = tokenizer.decode(ids, skipSpecialTokens: true)
            let raw = stride(from: 0, to: text.count - 3, by: 4).map { text.loadUnaligned(fromByteOffset: $0, as: Int32.self) }
            _ = tokenizer.decode(raw, skipSpecialTokens: false)
            var streaming = StreamingDecoder(tokenizer: tokenizer)
            for id in raw.prefix(64) { _ = streaming.append(id) }
            _ = streaming.finish()
            return .accepted
        }
    }
}
