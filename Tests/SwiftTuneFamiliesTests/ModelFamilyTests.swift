import Foundation
import Testing
import SwiftTuneChat
import SwiftTuneCheckpoint
import SwiftTuneExport
import SwiftTuneFamilies

/// The registry holds together: every family has a logits golden whose config reads as that family and writes back
/// to an equal config, its GGUF names lead back to it, and its chat templates (and their Ollama turns) exist.
@Suite struct ModelFamilyTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/golden")

    @Test(arguments: ModelFamily.allCases) func everyFamilyHasAGoldenThatReadsAsIt(_ family: ModelFamily) throws {
        let folder = Self.golden.appendingPathComponent(family.modelType)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("golden.safetensors").path),
                "\(family): a new family needs a logits golden (scripts/golden/make_decoder_goldens.py)")
        let config = try DecoderConfig.load(from: folder)
        #expect(config.modelType == family)
        let written = Data(config.huggingFaceConfig(torchDtype: "float32").pythonJSONString(indent: 2).utf8)
        #expect(try DecoderConfig(json: written, source: "\(family) written") == config)
        #expect(config.huggingFaceArchitecture == family.huggingFaceArchitecture)
    }

    @Test(arguments: ModelFamily.allCases) func namesLeadBackToTheFamily(_ family: ModelFamily) throws {
        #expect(ModelFamily(rawValue: family.modelType) == family)
        for name in family.ggufReadArchitectures { #expect(ModelFamily(ggufArchitecture: name) == family) }
        // What is written reads back as a family with the same q/k row order (Mistral is written as llama).
        let written = try #require(ModelFamily(ggufArchitecture: family.ggufArchitecture))
        #expect(written.ggufPermutesRotaryRows == family.ggufPermutesRotaryRows)
        for name in [family.chatTemplate.name, family.chatTemplate.withEotToken].compactMap({ $0 })
            + (family.chatTemplate.fromChatTemplate.map(Array.init) ?? []) {
            #expect(throws: Never.self, "\(family): no template \(name)") { try TemplateRegistry.template(named: name) }
        }
        #expect(TemplateRegistry.templateName(for: .init(modelType: family.modelType)) == family.chatTemplate.name)
        // The Ollama export falls back to the turns of the family's default template.
        #expect(OllamaModelfile.Family.detect(templateName: family.chatTemplate.name) != nil, "\(family): no Ollama turns")
    }

    @Test func lookupsAndTheListInErrors() {
        #expect(ModelFamily.allCases.map(\.rawValue) == ["llama", "mistral", "qwen2", "qwen3"])
        #expect(ModelFamily.ggufArchitectureNames == ["llama", "mistral", "qwen2", "qwen3"])
        #expect(ModelFamily(rawValue: "gemma3") == nil && ModelFamily(ggufArchitecture: "gemma3") == nil)
        #expect(ModelFamily.mistral.ggufArchitecture == "llama" && ModelFamily(ggufArchitecture: "llama") == .llama)
        let llama = ModelFamily.llama.chatTemplate
        #expect(llama.resolve(hasEotToken: true, detected: "chatml") == "llama3")
        #expect(llama.resolve(hasEotToken: false, detected: "chatml") == "chatml")
        #expect(ModelFamily.mistral.chatTemplate.resolve(hasEotToken: false, detected: "llama3") == "mistral")
        #expect(ModelFamily.qwen2.chatTemplate.resolve(hasEotToken: true, detected: "chatml") == "qwen2_5")
    }
}
