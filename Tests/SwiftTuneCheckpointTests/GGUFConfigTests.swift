import Foundation
import SwiftTuneCheckpoint
import Testing

/// `DecoderConfig(gguf:)`, the GGUF ↔ HF tensor names and the llama q/k row permutation.
@Suite struct GGUFConfigTests {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    /// A minimal model file for `architecture` with the given extra metadata and tensor names (1-element F32s).
    private func model(_ architecture: String, metadata: [(String, GGUFValue)] = [], tensors: [String] = ["token_embd.weight"],
                       name: String = "model.gguf") throws -> GGUFFile {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string(architecture))
        for (key, value) in [("block_count", GGUFValue.uint32(2)), ("embedding_length", .uint64(64)),
                             ("feed_forward_length", .int32(128)), ("attention.head_count", .uint16(4)),
                             ("attention.head_count_kv", .int64(2)), ("vocab_size", .uint32(100))] {
            writer.add("\(architecture).\(key)", value)
        }
        for (key, value) in metadata { writer.add(key, value) }
        for tensor in tensors { try writer.addTensor(tensor, shape: [1], values: [0]) }
        let url = directory.file(name)
        try writer.write(to: url)
        return try GGUFFile(url: url)
    }

    @Test func smolLM2Config() throws {
        let config = try DecoderConfig(gguf: GGUFFixtures.smolLM2File())
        let expected = DecoderConfig(
            modelType: .llama, vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30,
            numAttentionHeads: 9, numKeyValueHeads: 3, headDim: 64, rmsNormEps: Double(Float(1e-5)), ropeTheta: 100_000,
            maxPositionEmbeddings: 8192, tieWordEmbeddings: true, bosTokenId: 1, eosTokenIds: [2], padTokenId: 2)
        #expect(config == expected)
    }

    @Test func familyFlagsAndTiedEmbeddings() throws {
        let qwen2 = try DecoderConfig(gguf: model("qwen2", tensors: ["token_embd.weight", "output.weight"], name: "q2.gguf"))
        #expect(qwen2.modelType == .qwen2 && qwen2.attentionBias && !qwen2.outputProjectionBias && !qwen2.tieWordEmbeddings)
        #expect(qwen2.headDim == 16 && qwen2.numKeyValueHeads == 2 && qwen2.maxPositionEmbeddings == 32768)
        let qwen3 = try DecoderConfig(gguf: model("qwen3", metadata: [("qwen3.attention.key_length", .uint32(32))], name: "q3.gguf"))
        #expect(qwen3.qkNorm && !qwen3.attentionBias && qwen3.headDim == 32 && qwen3.tieWordEmbeddings)
        let llama = try DecoderConfig(gguf: model("llama", tensors: ["token_embd.weight", "blk.0.attn_q.bias",
                                                                     "blk.0.attn_output.bias", "blk.0.ffn_gate.bias"],
                                                  name: "l.gguf"))
        #expect(llama.attentionBias && llama.outputProjectionBias && llama.mlpBias && !llama.qkNorm)
        let mistral = try DecoderConfig(gguf: model("mistral", metadata: [("mistral.attention.sliding_window", .uint32(4096))],
                                                    name: "m.gguf"))
        #expect(mistral.modelType == .mistral && mistral.layerSlidingWindows == [4096, 4096])
        // Without vocab_size the embedding's rows count.
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        for key in ["block_count", "embedding_length", "feed_forward_length", "attention.head_count"] {
            writer.add("llama.\(key)", .uint32(key == "embedding_length" ? 8 : 2))
        }
        try writer.addTensor("token_embd.weight", shape: [7, 8], values: [Float](repeating: 0, count: 56))
        try writer.write(to: directory.file("v.gguf"))
        #expect(try DecoderConfig(gguf: GGUFFile(url: directory.file("v.gguf"))).vocabSize == 7)
    }

    @Test func ropeScalingKeys() throws {
        let linear = try DecoderConfig(gguf: model("llama", metadata: [("llama.rope.scaling.type", .string("linear")),
                                                                        ("llama.rope.scaling.factor", .float32(4))], name: "a.gguf"))
        #expect(linear.ropeScaling == .linear(factor: 4))
        let yarn = try DecoderConfig(gguf: model("qwen2", metadata: [
            ("qwen2.rope.scaling.type", .string("yarn")), ("qwen2.rope.scaling.factor", .float32(4)),
            ("qwen2.rope.scaling.original_context_length", .uint32(32768))], name: "b.gguf"))
        #expect(yarn.ropeScaling == .yarn(factor: 4, originalMaxPositionEmbeddings: 32768, betaFast: 32, betaSlow: 1,
                                          attentionFactor: 0.1 * log(4) + 1))
        let none = try DecoderConfig(gguf: model("llama", metadata: [("llama.rope.scaling.type", .string("none"))], name: "c.gguf"))
        #expect(none.ropeScaling == .none)
        let bad = checkpointError { _ = try DecoderConfig(gguf: model("llama", metadata: [("llama.rope.scaling.type", .string("su"))],
                                                                         name: "d.gguf")) }
        expectMessage(bad, mentions: ["d.gguf", "llama.rope.scaling.type", "\"su\"", "linear, yarn"])
        let missing = checkpointError { _ = try DecoderConfig(gguf: model("llama", metadata: [
            ("llama.rope.scaling.type", .string("linear"))], name: "e.gguf")) }
        expectMessage(missing, mentions: ["llama.rope.scaling.factor"])
    }

    /// Llama 3.1's real settings (θ 500000, hd 128, factor 8, low 1, high 4, original 8192) survive the trip
    /// through `rope_freqs.weight`.
    @Test func llama31RopeFactorsAreReadBack() throws {
        let (theta, hd, original) = (500_000.0, 128, 8192)
        let factors: [Float] = stride(from: 0, to: hd, by: 2).map { i in
            let wavelength = 2 * Double.pi * pow(theta, Double(i) / Double(hd))
            if wavelength < Double(original) / 4 { return 1 }
            if wavelength > Double(original) / 1 { return 8 }
            let smooth = (Double(original) / wavelength - 1) / (4 - 1)
            return Float(1 / ((1 - smooth) / 8 + smooth))
        }
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        for (key, value) in [("block_count", 2), ("embedding_length", 256), ("feed_forward_length", 512),
                             ("attention.head_count", 2), ("vocab_size", 10)] {
            writer.add("llama.\(key)", .uint32(UInt32(value)))
        }
        writer.add("llama.rope.freq_base", .float32(Float(theta)))
        try writer.addTensor("rope_freqs.weight", shape: [hd / 2], values: factors)
        try writer.write(to: directory.file("l31.gguf"))
        let config = try DecoderConfig(gguf: GGUFFile(url: directory.file("l31.gguf")))
        guard case let .llama3(factor, low, high, context) = config.ropeScaling else {
            Issue.record("expected llama3 scaling, got \(config.ropeScaling)")
            return
        }
        #expect(factor == 8 && context == 8192)
        #expect(abs(low - 1) < 1e-3 && abs(high - 4) < 1e-3, "low \(low), high \(high)")
        #expect(try GGUFWeights(file: GGUFFile(url: directory.file("l31.gguf"))).unmappedTensors == ["rope_freqs.weight"])
    }

    @Test func refusesOtherArchitecturesAndMissingCounts() throws {
        let gemma = checkpointError { _ = try DecoderConfig(gguf: model("gemma3", name: "g.gguf")) }
        expectMessage(gemma, mentions: ["g.gguf", "general.architecture", "\"gemma3\"", "llama, mistral, qwen2, qwen3"])
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        writer.add("llama.block_count", .uint32(2))
        try writer.write(to: directory.file("n.gguf"))
        let missing = checkpointError { _ = try DecoderConfig(gguf: GGUFFile(url: directory.file("n.gguf"))) }
        expectMessage(missing, mentions: ["n.gguf", "llama.embedding_length", "missing"])
        let wrongType = checkpointError { _ = try DecoderConfig(gguf: model("llama", metadata: [
            ("llama.attention.head_count", .string("4"))], name: "w.gguf")) }
        expectMessage(wrongType, mentions: ["llama.attention.head_count", "an integer", "string"])
        let partial = checkpointError { _ = try DecoderConfig(gguf: model("llama", metadata: [
            ("llama.rope.dimension_count", .uint32(8))], name: "p.gguf")) }
        expectMessage(partial, mentions: ["llama.rope.dimension_count", "partial RoPE"])
        let noArchitecture = checkpointError {
            var empty = GGUFWriter()
            empty.add("general.name", .string("x"))
            try empty.write(to: directory.file("x.gguf"))
            _ = try DecoderConfig(gguf: GGUFFile(url: directory.file("x.gguf")))
        }
        expectMessage(noArchitecture, mentions: ["general.architecture", "missing"])
    }

    @Test func tensorNamesBothWays() {
        let pairs = [("token_embd.weight", "model.embed_tokens.weight"), ("output_norm.weight", "model.norm.weight"),
                     ("output.weight", "lm_head.weight"), ("blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"),
                     ("blk.11.attn_q.bias", "model.layers.11.self_attn.q_proj.bias"),
                     ("blk.3.attn_k_norm.weight", "model.layers.3.self_attn.k_norm.weight"),
                     ("blk.2.ffn_norm.weight", "model.layers.2.post_attention_layernorm.weight"),
                     ("blk.29.ffn_down.weight", "model.layers.29.mlp.down_proj.weight")]
        for (gguf, hf) in pairs {
            #expect(GGUFTensorNames.huggingFaceName(gguf) == hf)
            #expect(GGUFTensorNames.ggufName(hf) == gguf)
        }
        #expect(GGUFTensorNames.huggingFaceName("rope_freqs.weight") == nil)
        #expect(GGUFTensorNames.huggingFaceName("blk.x.attn_q.weight") == nil)
        #expect(GGUFTensorNames.huggingFaceName("blk.0.attn_qkv.weight") == nil)
    }

    /// The permutation on its own: a tensor whose rows are numbered, permuted with FORMATS.md's index formula
    /// `gguf_row[h·hd + 2i + j] = hf_row[h·hd + j·hd/2 + i]`, and back.
    @Test func rotaryRowPermutationFollowsTheIndexFormula() {
        let (heads, headDim, rowLength) = (3, 8, 2)
        let rows = heads * headDim
        let hf = (0..<rows).flatMap { row in (0..<rowLength).map { Float(row * 10 + $0) } }
        var byFormula = [Float](repeating: -1, count: hf.count)
        for h in 0..<heads {
            for i in 0..<headDim / 2 {
                for j in 0..<2 {
                    let (ggufRow, hfRow) = (h * headDim + 2 * i + j, h * headDim + j * headDim / 2 + i)
                    for c in 0..<rowLength { byFormula[ggufRow * rowLength + c] = hf[hfRow * rowLength + c] }
                }
            }
        }
        let gguf = RotaryRowPermutation.ggufOrder(hf, rows: rows, rowLength: rowLength, heads: heads)
        #expect(gguf == byFormula)
        // Head 0 in GGUF order interleaves the two halves: rows 0, 4, 1, 5, 2, 6, 3, 7.
        #expect(stride(from: 0, to: 16, by: 2).map { Int(gguf[$0]) / 10 } == [0, 4, 1, 5, 2, 6, 3, 7])
        #expect(RotaryRowPermutation.huggingFaceOrder(gguf, rows: rows, rowLength: rowLength, heads: heads) == hf)
        #expect(RotaryRowPermutation.applies(rows: 24, heads: 3) && !RotaryRowPermutation.applies(rows: 15, heads: 3))
    }

    /// GGUFWeights un-permutes q and k (weights and biases, with their own head counts) for llama only.
    @Test func weightsRestoreRowOrderForLlamaOnly() throws {
        let (hidden, heads, kvHeads) = (8, 2, 1)
        let hd = hidden / heads
        let q = (0..<hidden * hidden).map(Float.init), k = (0..<hd * kvHeads * hidden).map { Float($0) + 0.5 }
        let qBias = (0..<hidden).map { Float($0) * 2 }
        for architecture in ["llama", "qwen2"] {
            var writer = GGUFWriter()
            writer.add("general.architecture", .string(architecture))
            for (key, value) in [("block_count", 1), ("embedding_length", hidden), ("feed_forward_length", 16),
                                 ("attention.head_count", heads), ("attention.head_count_kv", kvHeads), ("vocab_size", 4)] {
                writer.add("\(architecture).\(key)", .uint32(UInt32(value)))
            }
            let permute = architecture == "llama"
            func stored(_ values: [Float], rows: Int, rowLength: Int, heads: Int) -> [Float] {
                permute ? RotaryRowPermutation.ggufOrder(values, rows: rows, rowLength: rowLength, heads: heads) : values
            }
            try writer.addTensor("blk.0.attn_q.weight", shape: [hidden, hidden], values: stored(q, rows: hidden, rowLength: hidden, heads: heads))
            try writer.addTensor("blk.0.attn_k.weight", shape: [hd * kvHeads, hidden],
                                 values: stored(k, rows: hd * kvHeads, rowLength: hidden, heads: kvHeads))
            try writer.addTensor("blk.0.attn_q.bias", shape: [hidden], values: stored(qBias, rows: hidden, rowLength: 1, heads: heads))
            try writer.write(to: directory.file("\(architecture).gguf"))
            let weights = try GGUFWeights(url: directory.file("\(architecture).gguf"))
            #expect(weights.restoresRotaryRowOrder == permute)
            #expect(try weights.floats("model.layers.0.self_attn.q_proj.weight") == q)
            #expect(try weights.floats("model.layers.0.self_attn.k_proj.weight") == k)
            #expect(try weights.floats("model.layers.0.self_attn.q_proj.bias") == qBias)
            #expect(weights.names.contains("model.layers.0.self_attn.q_proj.bias"))
        }
    }

    @Test func writerRoundTripsEveryValueType() throws {
        var writer = GGUFWriter(alignment: 16)
        let values: [(String, GGUFValue)] = [
            ("a", .uint8(1)), ("b", .int8(-1)), ("c", .uint16(2)), ("d", .int16(-2)), ("e", .uint32(3)), ("f", .int32(-3)),
            ("g", .float32(0.5)), ("h", .bool(false)), ("i", .string("ü")), ("j", .uint64(4)), ("k", .int64(-4)),
            ("l", .float64(0.25)), ("m", .array(elementType: .array, values: [.array(elementType: .string, values: [.string("x")])])),
        ]
        for (key, value) in values { writer.add(key, value) }
        try writer.addTensor("t", dimensions: [32], type: .q8_0, data: [UInt8](repeating: 0, count: 34))
        let error = checkpointError { try writer.addTensor("u", dimensions: [16], type: .q8_0, data: []) }
        expectMessage(error, mentions: ["\"u\"", "Q8_0"])
        try writer.write(to: directory.file("w.gguf"))
        let file = try GGUFFile(url: directory.file("w.gguf"))
        #expect(file.alignment == 16)
        for (key, value) in values { #expect(file[key] == value, "\(key)") }
        #expect(try file.floats("t") == [Float](repeating: 0, count: 32))
    }
}
