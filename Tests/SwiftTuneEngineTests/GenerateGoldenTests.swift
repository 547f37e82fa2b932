import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneCPU
import SwiftTuneModels
import SwiftTuneTokenizers
@testable import SwiftTuneEngine

/// Greedy token ids against HF transformers' `generate` (scripts/golden/make_generate_goldens.py: torch 2.11,
/// transformers 5.17, peft 0.21, CPU f32 eager, 64 new tokens, no EOS stop), for every fixture family and for
/// qwen2 with the swift-tune adapter. The fixtures come from the GPU machine:
/// `scripts/golden/run_generate_goldens_on_gpu.sh`.
@Suite("Greedy generation vs HF generate")
struct GenerateGoldenTests {
    struct Golden: Decodable {
        let family: String
        let adapter: String?
        let maxNewTokens: Int
        let prompts: [[Int32]]
        let generated: [[Int32]]
    }

    /// The fixture, or nil after recording a failure that says how to make it.
    static func golden(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Golden? {
        let url = fixtures.appendingPathComponent("generate/\(name).json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("""
                The generation golden \(url.path) is missing. Make it on the GPU machine with \
                scripts/golden/run_generate_goldens_on_gpu.sh (runs scripts/golden/make_generate_goldens.py: torch 2.11, \
                transformers 5.17, peft 0.21), unpack generate-goldens.tar.gz into Tests/Fixtures and commit \
                Tests/Fixtures/generate.
                """, sourceLocation: sourceLocation)
            return nil
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Golden.self, from: data)
    }

    @Test(arguments: ["llama", "qwen2", "qwen3", "mistral", "qwen2_swift_adapter"])
    func greedyTokensEqualTransformers(_ name: String) throws {
        guard let golden = try Self.golden(name) else { return }
        let backend = CPUBackend(threadCount: 2)
        let model = try DecoderModel.load(directory: fixtures.appendingPathComponent("golden/\(golden.family)"),
                                          backend: backend)
        if golden.adapter != nil { try LoRAAdapter.load(from: swiftAdapter, into: model) }
        let engine = try GenerationEngine(model: model, tokenizer: try Tokenizer(contentsOf: qwen2Folder),
                                          options: EngineOptions(maxBatchSize: 2))
        let config = GenerationConfig(maxNewTokens: golden.maxNewTokens)  // greedy, no stops
        // Both prompts in one batch (different sequences stepping together), and each alone.
        let batched = try engine.generate(golden.prompts.map { GenerationRequest(promptIDs: $0, config: config) })
        for (index, expected) in golden.generated.enumerated() {
            expectSameTokens(batched[index].tokenIDs, expected, "\(name) prompt \(index), batched")
            #expect(batched[index].finishReason == .length)
            let alone = try engine.generate([GenerationRequest(promptIDs: golden.prompts[index], config: config)])
            expectSameTokens(alone[0].tokenIDs, expected, "\(name) prompt \(index), alone")
        }
    }
}
