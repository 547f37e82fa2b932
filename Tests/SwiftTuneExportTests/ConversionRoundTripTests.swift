import Foundation
import SwiftTuneCheckpoint
import SwiftTuneExport
import SwiftTuneHub
import SwiftTuneJSON
import SwiftTuneTokenizers
import Testing

/// The reverse conversions export needs for a GGUF base (tokenizer.json, config.json from GGUF metadata) and for an
/// HF base (GGUF vocabulary from tokenizer.json), each checked by loading the result back.
@Suite struct ConversionRoundTripTests {
    static let samples = ["Hello, world! 12345 apples cost $3.50.", "  leading spaces\nand\ttabs", "héllo wörld 中文 🙂",
                          "<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n", "I'll've don't"]

    @Test func smolLM2TokenizerJSONFromGGUFEncodesAlike() throws {
        try #require(FileManager.default.fileExists(atPath: ExportFixtures.smolLM2.path), "run scripts/fetch_test_models.sh")
        let file = try GGUFFile(url: ExportFixtures.smolLM2)
        let vocabulary = try GGMLVocabulary(gguf: file)
        let original = try Tokenizer(vocabulary: vocabulary)
        let json = try vocabulary.huggingFaceTokenizerJSON()
        let config = vocabulary.huggingFaceTokenizerConfig(modelMaxLength: 8192)
        let converted = try Tokenizer(tokenizerJSON: Data(json.utf8), config: (Data(config.utf8), "tokenizer_config.json"))
        for text in Self.samples {
            #expect(converted.encode(text, addSpecialTokens: true) == original.encode(text, addSpecialTokens: true), "\(text)")
        }
        #expect(converted.chatTemplate == vocabulary.chatTemplate && converted.eosTokenID == 2)
        // And back: the HF files give the GGUF vocabulary again.
        let back = try GGMLVocabulary(tokenizerJSON: Data(json.utf8), tokenizerConfig: Data(config.utf8), vocabularySize: 49152)
        #expect(back.tokens == vocabulary.tokens && back.merges == vocabulary.merges && back.pre == "smollm")
        #expect(back.tokenTypes == vocabulary.tokenTypes && back.bosTokenID == vocabulary.bosTokenID)
    }

    @Test func qwen2TokenizerJSONToGGUFVocabularyEncodesAlike() throws {
        let folder = ExportFixtures.golden.appendingPathComponent("qwen2")
        let hf = try Tokenizer(contentsOf: folder)
        let vocabulary = try GGMLVocabulary(tokenizerJSON: Data(contentsOf: folder.appendingPathComponent("tokenizer.json")),
                                            tokenizerConfig: Data(contentsOf: folder.appendingPathComponent("tokenizer_config.json")),
                                            vocabularySize: 300)
        #expect(vocabulary.pre == "gpt-2" && vocabulary.eosTokenID == 299 && vocabulary.addBOSToken == false)
        #expect(vocabulary.tokenTypes?.suffix(3) == [3, 3, 3])
        let gguf = try Tokenizer(vocabulary: vocabulary)
        for text in Self.samples {
            #expect(gguf.encode(text, addSpecialTokens: false) == hf.encode(text, addSpecialTokens: false), "\(text)")
        }
    }

    @Test func configJSONFromGGUFReadsBackEqual() throws {
        try #require(FileManager.default.fileExists(atPath: ExportFixtures.smolLM2.path), "run scripts/fetch_test_models.sh")
        let config = try DecoderConfig(gguf: GGUFFile(url: ExportFixtures.smolLM2))
        let json = config.huggingFaceConfig(torchDtype: "float32").pythonJSONString(indent: 2)
        var reread = try DecoderConfig(json: Data(json.utf8), source: "config.json")
        #expect(json.contains("\"rms_norm_eps\": 1e-05") && json.contains("\"LlamaForCausalLM\""))
        reread.rmsNormEps = config.rmsNormEps
        reread.torchDtype = nil
        #expect(reread == config)
        for name in ["golden/llama", "golden/qwen2", "golden/qwen3", "golden/mistral"] {
            let original = try DecoderConfig.load(from: ExportFixtures.root.appendingPathComponent(name))
            var back = try DecoderConfig(json: Data(original.huggingFaceConfig(torchDtype: "float32").pythonJSONString().utf8),
                                         source: name)
            back.torchDtype = original.torchDtype
            #expect(back == original, "\(name)")
        }
    }

    @Test func ollamaTemplatesByFamily() {
        #expect(OllamaModelfile.Family.detect(jinja: "{{ '<|start_header_id|>' }}") == .llama3)
        #expect(OllamaModelfile.Family.detect(templateName: "qwen2_5") == .chatML)
        let modelfile = OllamaModelfile(ggufFileName: "model.gguf", family: .llama3,
                                        generationConfig: ["temperature": 0.6, "top_p": 0.9, "repetition_penalty": 1.1])
        let text = modelfile.text
        #expect(text.hasPrefix("FROM ./model.gguf\n\nTEMPLATE \"\"\"{{- if .System }}<|start_header_id|>system"))
        #expect(text.contains("PARAMETER stop \"<|eot_id|>\"\nPARAMETER temperature 0.6\nPARAMETER top_p 0.9\nPARAMETER repeat_penalty 1.1\n"))
    }
}
