import Foundation
import SwiftTuneTokenizers
import Testing

/// Loading errors name the file, the JSON path, expected vs got, and give a hint.
@Suite struct TokenizerLoadingTests {
    /// A minimal valid byte-level tokenizer.json with `model` replaced by `model`.
    static func json(model: String = #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#,
                     preTokenizer: String = #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#,
                     normalizer: String = "null", decoder: String = #"{"type": "ByteLevel"}"#) -> Data
    {
        Data("""
            {"version": "1.0", "added_tokens": [], "normalizer": \(normalizer), "pre_tokenizer": \(preTokenizer),
             "post_processor": null, "decoder": \(decoder), "model": \(model)}
            """.utf8)
    }

    static func error(_ data: Data, config: String? = nil) -> TokenizerError? {
        do {
            _ = try Tokenizer(tokenizerJSON: data, file: "/m/tokenizer.json",
                              config: config.map { (Data($0.utf8), "/m/tokenizer_config.json") })
            return nil
        } catch let error as TokenizerError {
            return error
        } catch {
            return nil
        }
    }

    func expectMessage(_ error: TokenizerError?, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let message = error?.description ?? "no TokenizerError"
        for part in parts {
            #expect(message.contains(part), "\"\(message)\" does not mention \"\(part)\"", sourceLocation: sourceLocation)
        }
    }

    @Test func minimalTokenizerLoads() throws {
        let tokenizer = try Tokenizer(tokenizerJSON: Self.json())
        #expect(tokenizer.encode("ab ba", addSpecialTokens: false) == [2, 1, 0])  // the space has no token: dropped
        #expect(tokenizer.decode([2, 1]) == "abb")
    }

    @Test func unigramIsRefused() {
        let error = Self.error(Self.json(model: #"{"type": "Unigram", "vocab": [["a", 0.0]], "unk_id": 0}"#))
        expectMessage(error, ["/m/tokenizer.json", "model.type", "\"Unigram\"", "not supported", "BPE", "Hint"])
    }

    @Test func wordPieceIsRefused() {
        let error = Self.error(Self.json(model: #"{"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "a"}"#))
        expectMessage(error, ["model.type", "\"WordPiece\""])
    }

    @Test func mergeWithUnknownToken() {
        let error = Self.error(Self.json(model: #"{"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c"]}"#))
        expectMessage(error, ["model.merges[0]", "\"c\"", "not in the vocabulary"])
    }

    @Test func malformedMerge() {
        let error = Self.error(Self.json(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": [42]}"#))
        expectMessage(error, ["model.merges[0]", "expected", "got number 42"])
    }

    @Test func missingVocab() {
        let error = Self.error(Self.json(model: #"{"type": "BPE", "merges": []}"#))
        expectMessage(error, ["missing key model.vocab"])
    }

    @Test func wrongType() {
        let error = Self.error(Self.json(model: #"{"type": "BPE", "vocab": {"a": "zero"}, "merges": []}"#))
        expectMessage(error, ["model.vocab.a", "expected a token id", "got string \"zero\""])
    }

    @Test func unsupportedPreTokenizer() {
        let error = Self.error(Self.json(preTokenizer: #"{"type": "BertPreTokenizer"}"#))
        expectMessage(error, ["pre_tokenizer.type", "BertPreTokenizer", "ByteLevel"])
    }

    @Test func unsupportedNormalizerInSequence() {
        let error = Self.error(Self.json(normalizer: #"{"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Precompiled"}]}"#))
        expectMessage(error, ["normalizer.normalizers[1].type", "Precompiled"])
    }

    @Test func invalidJSON() {
        expectMessage(Self.error(Data("version https://git-lfs.github.com/spec/v1".utf8)), ["/m/tokenizer.json", "not valid JSON"])
    }

    @Test func unknownSpecialTokenInConfig() {
        let error = Self.error(Self.json(), config: #"{"eos_token": "<|im_end|>"}"#)
        expectMessage(error, ["/m/tokenizer_config.json", "eos_token", "<|im_end|>"])
    }

    @Test func missingFolder() {
        #expect(throws: TokenizerError.self) { try Tokenizer(contentsOf: URL(fileURLWithPath: "/nonexistent/model")) }
        do {
            _ = try Tokenizer(contentsOf: URL(fileURLWithPath: "/nonexistent/model"))
        } catch {
            #expect("\(error)".contains("/nonexistent/model: not found"))
        }
    }

    /// tokenizer_config.json: tokens as strings or AddedToken objects, add_bos_token, a named chat template list.
    @Test func configSettings() throws {
        let json = Data("""
            {"added_tokens": [{"id": 3, "content": "<s>", "special": true, "lstrip": false, "rstrip": false,
                               "normalized": false, "single_word": false}],
             "normalizer": null, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
             "post_processor": null, "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}}
            """.utf8)
        let config = #"""
            {"add_bos_token": true, "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "b",
             "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}
            """#
        let tokenizer = try Tokenizer(tokenizerJSON: json, config: (Data(config.utf8), "tokenizer_config.json"))
        #expect(tokenizer.bosTokenID == 3 && tokenizer.eosTokenID == 1 && tokenizer.chatTemplate == "D")
        #expect(tokenizer.encode("ab<s>a") == [3, 2, 3, 0])
        #expect(tokenizer.encode("ab<s>a", addSpecialTokens: false) == [2, 3, 0])
        #expect(tokenizer.decode([3, 2, 3, 0], skipSpecialTokens: true) == "aba")
    }

    /// lstrip/rstrip take the whitespace around an added token into the token (HF's AddedToken semantics).
    @Test func addedTokenStrip() throws {
        let json = Data("""
            {"added_tokens": [{"id": 3, "content": "<m>", "special": true, "lstrip": true, "rstrip": true,
                               "normalized": false, "single_word": false}],
             "normalizer": null, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
             "post_processor": null, "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "vocab": {"a": 0, "Ġ": 1, "b": 2}, "merges": []}}
            """.utf8)
        let tokenizer = try Tokenizer(tokenizerJSON: json)
        #expect(tokenizer.encode("a  <m>  b", addSpecialTokens: false) == [0, 3, 2])
        #expect(tokenizer.encode("a <m", addSpecialTokens: false) == [0, 1])
    }
}
