import Foundation
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneTensor
import Testing
@testable import SwiftTuneModels

/// GGUF → model: each HF golden model (Tests/Fixtures/golden) is written as a GGUF the way llama.cpp's converter
/// writes it (GGUF names, ne = shape reversed, q/k rows permuted for `llama`/`mistral`, Llama 3.1 RoPE as
/// `rope_freqs.weight`, counts as mixed integer types), loaded back with `DecoderModel.load(gguf:)`, and must give
/// transformers' logits. The real SmolLM2 GGUF is compared with transformers in `SmolLM2GGUFTests`.
@Suite struct GGUFModelTests {
    static let families = ["llama", "qwen2", "qwen3", "mistral"]

    /// The converter's Llama 3.1 factors (convert_hf_to_gguf.py `generate_extra_tensors`): ggml divides each
    /// frequency by its factor.
    static func llama3Factors(headDim: Int, theta: Double, factor: Double, low: Double, high: Double,
                              original: Int) -> [Float] {
        let (lowWavelength, highWavelength) = (Double(original) / low, Double(original) / high)
        return stride(from: 0, to: headDim, by: 2).map { i in
            let wavelength = 2 * Double.pi / (1 / pow(theta, Double(i) / Double(headDim)))
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return Float(factor) }
            let smooth = (Double(original) / wavelength - low) / (high - low)
            return Float(1 / ((1 - smooth) / factor + smooth))
        }
    }

    /// Writes the HF checkpoint in `directory` as a GGUF file at `url`.
    static func writeGGUF(from directory: URL, to url: URL, permute: Bool = true) throws {
        let config = try DecoderConfig.load(from: directory)
        let weights = try ModelWeights(directory: directory)
        let arch = config.modelType.rawValue
        var writer = GGUFWriter()
        writer.add("general.architecture", .string(arch))
        writer.add("general.name", .string("golden \(arch)"))
        writer.add("\(arch).block_count", .uint32(UInt32(config.numHiddenLayers)))
        writer.add("\(arch).context_length", .uint64(UInt64(config.maxPositionEmbeddings)))
        writer.add("\(arch).embedding_length", .int32(Int32(config.hiddenSize)))
        writer.add("\(arch).feed_forward_length", .uint32(UInt32(config.intermediateSize)))
        writer.add("\(arch).attention.head_count", .uint16(UInt16(config.numAttentionHeads)))
        writer.add("\(arch).attention.head_count_kv", .int64(Int64(config.numKeyValueHeads)))
        if config.headDim != config.hiddenSize / config.numAttentionHeads {
            writer.add("\(arch).attention.key_length", .uint32(UInt32(config.headDim)))
            writer.add("\(arch).attention.value_length", .uint32(UInt32(config.headDim)))
        }
        writer.add("\(arch).attention.layer_norm_rms_epsilon", .float32(Float(config.rmsNormEps)))
        writer.add("\(arch).rope.freq_base", .float32(Float(config.ropeTheta)))
        writer.add("\(arch).rope.dimension_count", .uint32(UInt32(config.headDim)))
        writer.add("\(arch).vocab_size", .uint32(UInt32(config.vocabSize)))
        if let window = config.layerSlidingWindows.first ?? nil {
            writer.add("\(arch).attention.sliding_window", .uint32(UInt32(window)))
        }
        if let bos = config.bosTokenId { writer.add("tokenizer.ggml.bos_token_id", .uint32(UInt32(bos))) }
        if let eos = config.eosTokenIds.first { writer.add("tokenizer.ggml.eos_token_id", .uint32(UInt32(eos))) }
        if case let .llama3(factor, low, high, original) = config.ropeScaling {
            try writer.addTensor("rope_freqs.weight", shape: [config.headDim / 2],
                                 values: llama3Factors(headDim: config.headDim, theta: config.ropeTheta, factor: factor,
                                                       low: low, high: high, original: original))
        }
        let backend = CPUBackend()
        for name in weights.names {
            let gguf = try #require(GGUFTensorNames.ggufName(name), "no GGUF name for \(name)")
            let shape = try weights.info(name).shape
            var values = try backend.floats(weights.tensor(name, on: backend, as: .f32))
            let isQuery = name.contains("q_proj"), isKey = name.contains("k_proj")
            if permute && (arch == "llama" || arch == "mistral") && (isQuery || isKey) {
                let heads = isQuery ? config.numAttentionHeads : config.numKeyValueHeads
                values = RotaryRowPermutation.ggufOrder(values, rows: shape[0], rowLength: shape.count > 1 ? shape[1] : 1,
                                                        heads: heads)
            }
            try writer.addTensor(gguf, shape: shape, values: values)
        }
        try writer.write(to: url)
    }

    static func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-gguf-\(UUID().uuidString)-\(name).gguf")
    }

    @Test(arguments: families)
    func goldenModelsLoadFromGGUF(family: String) throws {
        let directory = goldenDirectory.appendingPathComponent(family)
        let url = Self.temporaryURL(family)
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeGGUF(from: directory, to: url)
        let golden = try Golden(family)
        let model = try DecoderModel.load(gguf: url, backend: golden.backend)

        var expected = golden.model.config
        expected.torchDtype = nil
        expected.rmsNormEps = Double(Float(expected.rmsNormEps))  // GGUF stores ε as f32
        expected.padTokenId = nil
        var actual = model.config
        if case .llama3 = expected.ropeScaling, case .llama3 = actual.ropeScaling {
            // Read back from rope_freqs.weight: the same frequencies, not necessarily the same three parameters.
            expectClose(model.rotary.inverseFrequencies, golden.model.rotary.inverseFrequencies, relativeTolerance: 1e-6,
                        "\(family) RoPE frequencies")
            actual.ropeScaling = expected.ropeScaling
        }
        #expect(actual == expected)
        let batch = try golden.batch.upload(to: golden.backend)
        expectClose(try golden.backend.floats(model.logits(batch)), try golden.reference("logits"),
                    relativeTolerance: 1e-4, "\(family) logits from GGUF")
    }

    /// Without undoing the converter's q/k permutation the model computes something else: the check above would
    /// catch a loader that forgot it.
    @Test func skippingThePermutationChangesTheLogits() throws {
        let url = Self.temporaryURL("unpermuted")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeGGUF(from: goldenDirectory.appendingPathComponent("llama"), to: url, permute: false)
        let golden = try Golden("llama")
        let model = try DecoderModel.load(gguf: url, backend: golden.backend)
        let logits = try golden.backend.floats(model.logits(golden.batch.upload(to: golden.backend)))
        #expect(relativeMaxError(try golden.reference("logits"), logits) > 1e-2)
    }
}
