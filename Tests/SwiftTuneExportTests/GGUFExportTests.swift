import Foundation
import SwiftTuneAdapters
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneCheckpoint
@testable import SwiftTuneExport
import SwiftTuneJSON
import SwiftTuneModels
import SwiftTuneTensor
import Testing

/// `--to_gguf`: exported files reload in swift-tune with the merged logits (f32), carry llama.cpp's names, the llama
/// q/k order and rope_freqs, and read back identically with gguf-py (scripts/export/check_gguf.py manifest).
@Suite struct GGUFExportTests {
    let backend = CPUBackend()

    func export(_ checkpoint: URL, model: URL?, type: ExportOptions.GGUFType, into folder: URL) throws -> ExportResult {
        var options = ExportOptions(adapters: checkpoint, model: model)
        options.toGGUF = true
        options.ggufType = type
        options.outputDirectory = folder.appendingPathComponent("gguf-\(type)")
        return try Exporter(backend: backend).run(options)
    }

    /// The exported f32 GGUF, loaded by swift-tune, gives the logits of the base with the adapter attached.
    func checkLogits(family: String, checkpoint: URL, model: URL?, folder: URL) throws -> URL {
        let result = try export(checkpoint, model: model, type: .f32, into: folder)
        let file = try #require(result.ggufFile)
        let (sequences, expected) = try ExportFixtures.adapterLogits(family: family, checkpoint: checkpoint, backend: backend)
        let reloaded = try DecoderModel.load(gguf: file, backend: backend)
        let logits = try ExportFixtures.logits(reloaded, sequences, backend: backend)
        let (difference, index) = ExportFixtures.maxDifference(expected, logits)
        #expect(difference <= 1e-4, "\(family) GGUF: logits differ by \(difference) at \(index): \(logits[index]) vs \(expected[index])")
        #expect(result.fallbacks.isEmpty)
        return file
    }

    @Test func qwen2ReloadsWithMergedLogits() async throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = try checkLogits(family: "qwen2", checkpoint: ExportFixtures.swiftAdapter,
                                   model: ExportFixtures.golden.appendingPathComponent("qwen2"), folder: folder)
        let gguf = try GGUFFile(url: file)
        #expect(gguf.architecture == "qwen2" && !gguf.contains("output.weight") && gguf.contains("blk.0.attn_q.bias"))
        #expect(try gguf.string("tokenizer.ggml.pre") == "gpt-2" && gguf.string("tokenizer.ggml.model") == "gpt2")
        #expect(try gguf.string("tokenizer.chat_template")?.contains("<|im_start|>") == true)
        #expect(try gguf.int("tokenizer.ggml.eos_token_id") == 299)
        try await checkManifest(file)
    }

    @Test func llamaReloadsWithMergedLogitsThroughThePermutation() async throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The llama golden has no tokenizer: lend it the qwen2 golden's (320 embedding rows, 300 tokens: padded).
        let base = folder.appendingPathComponent("llama-base")
        try FileManager.default.copyItem(at: ExportFixtures.golden.appendingPathComponent("llama"), to: base)
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: ExportFixtures.golden.appendingPathComponent("qwen2/\(name)"),
                                             to: base.appendingPathComponent(name))
        }
        let checkpoint = try ExportFixtures.llamaCheckpoint(in: folder, backend: backend)
        let file = try checkLogits(family: "llama", checkpoint: checkpoint, model: base, folder: folder)
        let gguf = try GGUFFile(url: file)
        #expect(gguf.architecture == "llama" && gguf.contains("rope_freqs.weight") && gguf.contains("output.weight"))
        #expect(try gguf.stringArray("tokenizer.ggml.tokens")?.last == "[PAD319]")
        #expect(try gguf.intArray("tokenizer.ggml.token_type")?.last == 5)
        // q rows are in ggml's interleaved order: row 1 of the file is HF row hd/2 of head 0.
        let merged = try DecoderModel.load(gguf: file, backend: backend)
        let hfQuery = try backend.floats(merged.layers[0].qProj.denseWeight!.value)
        let fileQuery = try gguf.floats("blk.0.attn_q.weight")
        #expect(Array(fileQuery[64 ..< 128]) == Array(hfQuery[8 * 64 ..< 9 * 64]))
        try await checkManifest(file)
    }

    /// Qwen3 (q/k norms, a head width that is not hidden/heads: key_length) round-trips with its adapter merged.
    @Test func qwen3ReloadsWithMergedLogits() async throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let base = try ExportFixtures.goldenWithTokenizer("qwen3", in: folder)
        let checkpoint = try ExportFixtures.checkpoint(family: "qwen3", base: base, in: folder, backend: backend)
        let file = try checkLogits(family: "qwen3", checkpoint: checkpoint, model: base, folder: folder)
        let gguf = try GGUFFile(url: file)
        #expect(gguf.architecture == "qwen3" && gguf.contains("blk.1.attn_k_norm.weight"))
        #expect(try gguf.int("qwen3.attention.key_length") == 32)
        try await checkManifest(file)
    }

    /// Mistral goes out as llama.cpp's converter writes it: architecture llama (q/k permuted), and its sliding window,
    /// which that architecture cannot express, is dropped with a note.
    @Test func mistralIsWrittenAsLlamaWithANote() throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let base = try ExportFixtures.goldenWithTokenizer("mistral", in: folder)
        var options = ExportOptions(model: base)
        options.toGGUF = true
        options.outputDirectory = folder.appendingPathComponent("gguf")
        let result = try Exporter(backend: backend).run(options)
        let gguf = try GGUFFile(url: try #require(result.ggufFile))
        #expect(gguf.architecture == "llama" && gguf.contains("output.weight"))
        #expect(result.notes.contains { $0.contains("sliding window") && $0.contains("5") }, "\(result.notes)")
        let original = try DecoderModel.load(directory: base, backend: backend)
        let reloaded = try DecoderModel.load(gguf: gguf.url, backend: backend)
        #expect(try backend.floats(reloaded.layers[0].kProj.denseWeight!.value).map { Float16($0) }
                == backend.floats(original.layers[0].kProj.denseWeight!.value).map { Float16($0) })
    }

    /// K-quants on 64-wide rows fall back per tensor as llama.cpp does, and the fallbacks are reported.
    @Test func kQuantsFallBackPerTensor() async throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try export(ExportFixtures.swiftAdapter, model: ExportFixtures.golden.appendingPathComponent("qwen2"),
                                type: .q4K, into: folder)
        let file = try GGUFFile(url: try #require(result.ggufFile))
        #expect(try file.info("blk.0.ffn_up.weight").type == .q5_0)
        #expect(try file.info("token_embd.weight").type == .q8_0)  // the tied output: rows not whole Q4_K blocks → Q8_0
        #expect(try file.info("blk.0.attn_norm.weight").type == .f32 && file.info("blk.0.attn_q.bias").type == .f32)
        #expect(try file.int("general.file_type") == 15)
        let fallbacks = Dictionary(uniqueKeysWithValues: result.fallbacks.map { ($0.tensor, $0) })
        #expect(fallbacks["blk.0.ffn_down.weight"]?.wanted == .q4K && fallbacks["blk.0.ffn_down.weight"]?.used == .q5_0)
        // Layer 1 of 2 is one of Q4_K_M's more-bits layers: Q6_K → Q8_0.
        #expect(fallbacks["blk.1.ffn_down.weight"]?.wanted == .q6K && fallbacks["blk.1.ffn_down.weight"]?.used == .q8_0)
        #expect(fallbacks["token_embd.weight"] == nil)
        #expect(result.fallbacks.count == 2 * 7, "\(result.fallbacks)")
        #expect(result.fallbacks.first?.description.contains("not divisible by 256") == true)
        _ = try DecoderModel.load(gguf: file.url, backend: backend)
        try await checkManifest(file.url)
    }

    /// A model whose rows are whole k-quant blocks (widths 256 and 512): Q4_K and Q6_K blocks in a real file, read
    /// back by gguf-py byte for byte and dequantized alike; a full-fine-tuning checkpoint converts without an adapter.
    @Test(arguments: [ExportOptions.GGUFType.q4K, .q6K])
    func kQuantizedFileReadsBackWithGGUFPy(_ type: ExportOptions.GGUFType) async throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = DecoderConfig(modelType: .llama, vocabSize: 512, hiddenSize: 256, intermediateSize: 512,
                                   numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, rmsNormEps: 1e-5,
                                   maxPositionEmbeddings: 256, bosTokenId: 1, eosTokenIds: [2])
        let model = try DecoderModel.randomlyInitialized(config: config, backend: backend, seed: 3)
        let checkpoint = folder.appendingPathComponent("checkpoint-4")
        try SafetensorsWriter.writeSharded(tensors: model.parameters.map { ($0.name, $0.value) }, to: checkpoint,
                                           maxShardBytes: 5_000_000_000)
        try config.huggingFaceConfig(torchDtype: "float32").pythonJSONString(indent: 2)
            .write(to: checkpoint.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: ExportFixtures.golden.appendingPathComponent("qwen2/\(name)"),
                                             to: checkpoint.appendingPathComponent(name))
        }
        var options = ExportOptions(adapters: checkpoint)
        options.toGGUF = true
        options.ggufType = type
        let result = try Exporter(backend: backend).run(options)
        let url = try #require(result.ggufFile)
        #expect(url.deletingLastPathComponent().lastPathComponent == "checkpoint-4-gguf" && result.fallbacks.isEmpty)
        let file = try GGUFFile(url: url)
        #expect(try file.info("blk.0.attn_q.weight").type == (type == .q4K ? .q4K : .q6K))
        #expect(try file.info("output.weight").type == .q6K && file.info("blk.1.ffn_down.weight").type == .q6K)
        #expect(try file.info("token_embd.weight").type == (type == .q4K ? .q4K : .q6K))
        let reloaded = try DecoderModel.load(gguf: url, backend: backend)
        let original = try backend.floats(model.layers[1].downProj.denseWeight!.value)
        let quantized = try backend.floats(reloaded.layers[1].downProj.denseWeight!.value)
        #expect(relativeMaxError(original, quantized) < 0.05, "Q6_K error \(relativeMaxError(original, quantized))")
        try await checkManifest(url)
    }

    /// llama.cpp's Q4_K_M mix on a 32-layer 4096-wide model, and what the other types keep in F32.
    @Test func typePlanFollowsLlamaQuantize() {
        var tensors: [(name: String, dimensions: [Int])] = [("output.weight", [4096, 32000]), ("output_norm.weight", [4096]),
                                                           ("token_embd.weight", [4096, 32000])]
        for layer in 0..<32 {
            for (suffix, ne) in [("attn_norm.weight", [4096]), ("attn_q.weight", [4096, 4096]), ("attn_v.weight", [4096, 1024]),
                                 ("ffn_down.weight", [14336, 4096])] {
                tensors.append(("blk.\(layer).\(suffix)", ne))
            }
        }
        let q4 = GGUFTensorTypePlan(tensors: tensors, type: .q4K, tiedEmbeddings: false)
        #expect(q4.types["output.weight"] == .q6K && q4.types["token_embd.weight"] == .q4K)
        let sixBit = (0..<32).filter { q4.types["blk.\($0).attn_v.weight"] == .q6K }
        #expect(sixBit == [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31])
        #expect((0..<32).filter { q4.types["blk.\($0).ffn_down.weight"] == .q6K } == sixBit)
        #expect(q4.types["blk.4.attn_q.weight"] == .q4K && q4.types["blk.4.attn_norm.weight"] == .f32 && q4.fallbacks.isEmpty)
        let q8 = GGUFTensorTypePlan(tensors: tensors, type: .q8_0, tiedEmbeddings: false)
        #expect(q8.types["output.weight"] == .q8_0 && q8.types["blk.0.attn_v.weight"] == .q8_0)
        let half = GGUFTensorTypePlan(tensors: tensors, type: .f16, tiedEmbeddings: false)
        #expect(half.types["output.weight"] == .f16 && half.types["output_norm.weight"] == .f32)
        let tied = GGUFTensorTypePlan(tensors: Array(tensors.dropFirst()), type: .q4_0, tiedEmbeddings: true)
        #expect(tied.types["token_embd.weight"] == .q6K && tied.types["blk.0.attn_q.weight"] == .q4_0)
    }

    func checkManifest(_ url: URL) async throws { try await GGUFManifest.check(url) }
}
