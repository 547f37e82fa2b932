import Foundation
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneHub
import SwiftTuneModels
import SwiftTuneTensor
import Testing

/// The real SmolLM2-135M-Instruct Q4_1 GGUF, loaded once, against HF transformers' logits for the same file
/// (scripts/golden/make_gguf_model_goldens.py: transformers dequantizes with gguf-py and un-permutes q/k itself,
/// so agreement also checks the permutation on a real model).
@Suite struct SmolLM2GGUFTests {
    static let golden = HubFixtures.gguf.appendingPathComponent("smollm2_logits.safetensors")

    @Test func loadsAndMatchesTransformers() throws {
        let url = try HubFixtures.requireSmolLM2()
        let backend = CPUBackend()
        let loaded = try LocalModel.load(path: url, backend: backend)
        #expect(loaded.format == .gguf && loaded.name == "Smollm2 135M 8k Lc100K Mix1 Ep2")
        let config = loaded.model.config
        #expect(config.modelType == .llama && config.numHiddenLayers == 30 && config.tieWordEmbeddings)
        #expect(loaded.chatTemplate?.contains("<|im_start|>") == true)

        try #require(FileManager.default.fileExists(atPath: Self.golden.path), """
            \(Self.golden.path) is missing: make it on a machine with torch and transformers 5.17 with \
            scripts/golden/make_gguf_model_goldens.py (its docstring has the commands) and commit it
            """)
        let file = try SafetensorsFile(url: Self.golden)
        let prompt = try #require(file.metadata?["prompt"], "the golden has no \"prompt\" metadata")
        let expectedIDs = try backend.int32s(file.tensor("input_ids", on: backend))
        let ids = loaded.tokenizer.encode(prompt, addSpecialTokens: false)
        #expect(ids == expectedIDs, "GGUF tokenizer vs transformers' GGUF tokenizer on \"\(escaped(prompt))\"")
        let batch = try TokenBatch(sequences: [expectedIDs]).upload(to: backend)
        let logits = try backend.floats(loaded.model.logits(batch))
        let reference = try backend.floats(file.tensor("logits", on: backend, as: .f32))
        #expect(logits.count == reference.count, "logits: \(logits.count) values, golden \(reference.count)")
        let relative = relativeMaxError(reference, logits)
        var worst = 0
        for i in reference.indices where abs(reference[i] - logits[i]) > abs(reference[worst] - logits[worst]) { worst = i }
        #expect(relative <= 1e-3, """
            SmolLM2 logits vs transformers: relative error \(relative) > 1e-3 (max abs diff \(abs(reference[worst] - logits[worst])) \
            at index \(worst): got \(logits[worst]), expected \(reference[worst])); first values \(logits.prefix(4)) vs \
            \(reference.prefix(4))
            """)
        // The greedy next token at every position agrees too.
        let vocabulary = config.vocabSize
        for position in 0..<expectedIDs.count {
            let row = position * vocabulary ..< (position + 1) * vocabulary
            let ours = logits[row].indices.max { logits[$0] < logits[$1] }, theirs = reference[row].indices.max { reference[$0] < reference[$1] }
            #expect(ours == theirs, "argmax at position \(position)")
        }
    }

    /// The weight-kind seam on a real file: the linear layers' Q4_1 blocks kept packed on the device (q/k rows moved
    /// back to HF order as whole rows of bytes) give the same logits, bit for bit, as weights dequantized at load.
    @Test func quantizedLinearWeightsGiveTheLogitsOfDequantizedOnes() throws {
        let url = try HubFixtures.requireSmolLM2()
        let backend = CPUBackend()
        let dense = try LocalModel.load(path: url, backend: backend).model
        let packed = try LocalModel.load(path: url, backend: backend, quantized: .keepLinearLayers).model
        let kinds = packed.linearModules.map { module -> String in
            if case let .quantized(weight) = module.linear.weight { return weight.format.description }
            return "dense"
        }
        #expect(!kinds.contains("dense"), "linear weights left dense: \(kinds.filter { $0 == "dense" }.count) of \(kinds.count)")
        #expect(packed.parameters.count < dense.parameters.count, "quantized weights are not dense parameters")
        #expect(packed.parameterCount == dense.parameterCount)
        let batch = try TokenBatch(sequences: [[1, 504, 3458, 282, 4649, 314], [2, 9]]).upload(to: backend)
        let expected = try backend.floats(dense.logits(batch)), actual = try backend.floats(packed.logits(batch))
        #expect(actual == expected, "logits differ: max abs \(zip(actual, expected).map { abs($0 - $1) }.max() ?? 0)")
        // LoRA trains on a packed base (QLoRA's shape), but cannot be merged into packed blocks.
        _ = try packed.attachLoRA(LoRAConfiguration(rank: 2, alpha: 4, dropout: 0), seed: 1, trainable: true)
        #expect(throws: TensorError.self) { try packed.mergeLoRA() }
    }
}
