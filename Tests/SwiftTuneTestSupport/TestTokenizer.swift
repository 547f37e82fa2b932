import SwiftTuneTokenizers

/// A tiny deterministic tokenizer for the chat-template and dataset tests: listed special tokens are matched first, then a few multi-character
/// pieces ("\n\n", " the"), then one id per Unicode scalar (1000 + scalar value).
public struct TestTokenizer: TextTokenizer {
    public let specials: [String]
    public let pieces: [String] = ["\n\n", " the"]
    public var addsBOS = false
    public var addsEOS = false
    public var bos: String? = nil
    public var eos: String? = "<|im_end|>"
    public var chatTemplate: String? = nil

    public init(specials: [String] = TestTokenizer.defaultSpecials, bos: String? = nil, eos: String? = "<|im_end|>",
         addsBOS: Bool = false, addsEOS: Bool = false) {
        self.specials = specials
        self.bos = bos
        self.eos = eos
        self.addsBOS = addsBOS
        self.addsEOS = addsEOS
    }

    public static let defaultSpecials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|eot_id|>",
                                  "<|start_header_id|>", "<|end_header_id|>", "<s>", "</s>", "<think>", "</think>"]

    public var vocabularySize: Int { 1000 + 0x110000 }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        var ids: [Int32] = []
        if addSpecialTokens, addsBOS, let bos, let id = tokenID(bos) { ids.append(id) }
        var rest = Substring(text)
        outer: while !rest.isEmpty {
            for (i, s) in specials.enumerated() where rest.hasPrefix(s) {
                ids.append(Int32(i)); rest = rest.dropFirst(s.count); continue outer
            }
            for (i, p) in pieces.enumerated() where rest.hasPrefix(p) {
                ids.append(Int32(500 + i)); rest = rest.dropFirst(p.count); continue outer
            }
            let scalar = rest.unicodeScalars.first!
            ids.append(Int32(1000 + Int(scalar.value)))
            rest = Substring(rest.unicodeScalars.dropFirst())
        }
        if addSpecialTokens, addsEOS, let eos, let id = tokenID(eos) { ids.append(id) }
        return ids
    }

    public func decode(_ ids: [Int32], skipSpecialTokens: Bool) -> String {
        ids.map { id -> String in
            if id < specials.count { return skipSpecialTokens ? "" : specials[Int(id)] }
            return token(id) ?? "\u{FFFD}"
        }.joined()
    }

    public func tokenID(_ token: String) -> Int32? {
        if let i = specials.firstIndex(of: token) { return Int32(i) }
        if let i = pieces.firstIndex(of: token) { return Int32(500 + i) }
        let scalars = Array(token.unicodeScalars)
        return scalars.count == 1 ? Int32(1000 + Int(scalars[0].value)) : nil
    }

    public func token(_ id: Int32) -> String? {
        if id >= 0 && id < specials.count { return specials[Int(id)] }
        if id >= 500 && id < 500 + pieces.count { return pieces[Int(id) - 500] }
        guard id >= 1000, let scalar = UnicodeScalar(UInt32(id - 1000)) else { return nil }
        return String(Character(scalar))
    }

    public var bosTokenID: Int32? { bos.flatMap(tokenID) }
    public var eosTokenID: Int32? { eos.flatMap(tokenID) }
    public var padTokenID: Int32? { nil }
}
