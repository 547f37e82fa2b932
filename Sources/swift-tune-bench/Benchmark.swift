import ArgumentParser
import Foundation
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor

/// Benchmarks (not tests): CPU GEMM against numpy in the same run, decoder forward throughput, LoRA training,
/// generation (`--generate`), tokenizers.
/// Results go to docs/benchmarks.md by hand, with the date, machine and command.
@main
struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swift-tune-bench",
        abstract: "CPU GEMM GFLOP/s next to numpy's, and decoder forward tokens/s (SmolLM2-135M shape).")

    @Option(help: "Timed repetitions per GEMM shape (the best is reported).")
    var repeats = 5
    @Option(help: "Tokens per sequence for the decoder benchmark.")
    var sequenceLength = 128
    @Option(help: "Sequences per batch for the decoder benchmark.")
    var batch = 4
    @Flag(help: "Skip the decoder benchmark.")
    var gemmOnly = false
    @Flag(help: "Run the LoRA training benchmark instead (SmolLM2-135M shape, one 512-token sequence per step).")
    var lora = false
    @Option(help: "Time GEMMs of these shapes instead, e.g. '440x8x576,440x1536x8' (M×N×K; BLAS and portable).")
    var gemmShapes: String?
    @Flag(help: "Run the generation benchmark instead: prefill and decode tokens/s through the engine, batch 1 and 8.")
    var generate = false
    @Option(help: "With --generate: new tokens decoded per request after the first.")
    var decodeTokens = 32
    @Option(help: "Run the tokenizer benchmark instead: a folder with tokenizer.json (with --generate: the tokenizer for the answers' text).")
    var tokenizer: String?
    @Argument(help: "With --tokenizer: the text files to encode (alpaca .json, .jsonl or plain text).")
    var files: [String] = []

    func run() throws {
        if generate {
            // The real SmolLM2 tokenizer when scripts/fetch_test_tokenizers.sh has fetched it, else the fixture's.
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let smol = root.appendingPathComponent(".cache/tokenizers/smollm2")
            let directory = tokenizer.map { URL(fileURLWithPath: $0) }
                ?? (FileManager.default.fileExists(atPath: smol.appendingPathComponent("tokenizer.json").path)
                    ? smol : root.appendingPathComponent("Tests/Fixtures/golden/qwen2"))
            let cpu = CPUBackend()
            print("CPU backend: \(cpu.threadCount) threads, BLAS: \(cpu.blas?.libraryName ?? "none (portable Swift GEMM)")")
            try runGenerateBenchmark(cpu, config: Self.smolLM2Shape, promptLength: sequenceLength, decodeTokens: decodeTokens,
                                     batchSizes: [1, 8], repeats: max(1, min(repeats, 3)), tokenizerDirectory: directory)
            return
        }
        if let tokenizer {
            try runTokenizerBenchmark(tokenizerDirectory: URL(fileURLWithPath: tokenizer),
                                      files: files.map { URL(fileURLWithPath: $0) })
            return
        }
        let cpu = CPUBackend()
        print("CPU backend: \(cpu.threadCount) threads, BLAS: \(cpu.blas?.libraryName ?? "none (portable Swift GEMM)")")
        let shapes = [(1024, 1024, 1024), (4096, 4096, 1024)]
        print("\nGEMM (f32, C = A·B), best of \(repeats):")
        print("| M×N×K | swift-tune GFLOP/s | portable Swift GFLOP/s | numpy GFLOP/s | ratio vs numpy |")
        print("| --- | --- | --- | --- | --- |")
        let numpy = numpyGFLOPs(shapes: shapes)
        let portable = CPUBackend(useBLAS: false)
        for (i, (m, n, k)) in shapes.enumerated() {
            let ours = try gemmGFLOPs(cpu, m: m, n: n, k: k)
            let fallback = try gemmGFLOPs(portable, m: m, n: n, k: k, repeats: 1)
            let reference = i < numpy.count ? numpy[i] : nil
            let ratio = reference.map { String(format: "%.2f×", ours / $0) } ?? "n/a"
            print("| \(m)×\(n)×\(k) | \(format(ours)) | \(format(fallback)) | \(reference.map(format) ?? "n/a") | \(ratio) |")
        }
        if let gemmShapes {
            for shape in gemmShapes.split(separator: ",") {
                let d = shape.split(separator: "x").compactMap { Int($0) }
                guard d.count == 3 else { throw ValidationError("--gemm-shapes: expected MxNxK, got \(shape)") }
                let blas = try gemmGFLOPs(cpu, m: d[0], n: d[1], k: d[2], repeats: 50)
                let swift = try gemmGFLOPs(CPUBackend(useBLAS: false), m: d[0], n: d[1], k: d[2], repeats: 50)
                let micro = { (g: Double) in 2 * Double(d[0] * d[1] * d[2]) / g / 1e3 }
                print(String(format: "%@: BLAS %.1f GFLOP/s (%.0f µs), portable %.1f GFLOP/s (%.0f µs)",
                             String(shape), blas, micro(blas), swift, micro(swift)))
            }
            return
        }
        if lora {
            try loraBenchmark(cpu, gemm: try gemmGFLOPs(cpu, m: 512, n: 1536, k: 576))
            return
        }
        if !gemmOnly { try decoderBenchmark(cpu) }
    }

    func format(_ value: Double) -> String { String(format: "%.1f", value) }

    func gemmGFLOPs(_ backend: CPUBackend, m: Int, n: Int, k: Int, repeats: Int? = nil) throws -> Double {
        var generator = SeededGenerator(seed: 1)
        let a = try backend.tensor(generator.normals(m * k), shape: [m, k])
        let b = try backend.tensor(generator.normals(k * n), shape: [k, n])
        let c = try backend.empty([m, n])
        try backend.matmul(a, b, into: c, transposeA: false, transposeB: false, alpha: 1, beta: 0)  // warm-up
        var best = Double.infinity
        for _ in 0..<(repeats ?? self.repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            try backend.matmul(a, b, into: c, transposeA: false, transposeB: false, alpha: 1, beta: 0)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * Double(m * n * k) / best / 1e9
    }

    /// numpy.matmul on the same shapes, in a child process of this run (nil where python3/numpy is missing).
    func numpyGFLOPs(shapes: [(Int, Int, Int)]) -> [Double] {
        let list = shapes.map { "(\($0.0),\($0.1),\($0.2))" }.joined(separator: ",")
        let script = """
            import time, numpy as np
            rng = np.random.default_rng(1)
            for m, n, k in [\(list)]:
                a = rng.standard_normal((m, k), dtype=np.float32); b = rng.standard_normal((k, n), dtype=np.float32)
                a @ b; best = 1e9
                for _ in range(\(repeats)):
                    t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)
                print(2 * m * n * k / best / 1e9)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return [] }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { Double($0) }
    }

    /// SmolLM2-135M's shape: 30 layers, d 576, ffn 1536, 9 heads / 3 kv heads, vocab 49,152, tied embeddings.
    static let smolLM2Shape = DecoderConfig(
        modelType: .llama, vocabSize: 49_152, hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30,
        numAttentionHeads: 9, numKeyValueHeads: 3, rmsNormEps: 1e-5, ropeTheta: 100_000,
        maxPositionEmbeddings: 8192, tieWordEmbeddings: true)

    /// LoRA training steps (r 8, α 32, all-linear, AdamW, gradient checkpointing) at `sequenceLength` tokens, with
    /// the achieved GFLOP/s against the GEMM rate of a layer-shaped product measured in the same run.
    func loraBenchmark(_ backend: CPUBackend, gemm: Double) throws {
        let config = Self.smolLM2Shape
        let model = try DecoderModel.randomlyInitialized(config: config, backend: backend, seed: 7)
        _ = try model.attachLoRA(LoRAConfiguration(rank: 8, alpha: 32, dropout: 0.05), seed: 1)
        model.gradientCheckpointing = true
        let optimizer = try AdamW(parameters: model.trainableParameters)
        var generator = SeededGenerator(seed: 3)
        let ids = (0..<sequenceLength).map { _ in Int32(generator.next() % UInt64(config.vocabSize)) }
        let batch = try TokenBatch(sequences: [ids]).upload(to: backend)
        func step(_ index: Int) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try model.lossAndGradients(batch, gradientScale: 1 / Float(batch.scoredTokenCount),
                                           dropoutSeed: UInt64(index))
            _ = try GradientClipping.clip(model.trainableParameters, maxNorm: 1)
            try optimizer.step(learningRate: 1e-4)
            try optimizer.zeroGradients()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        _ = try step(0)
        let times = try (1...3).map(step).sorted()
        let seconds = times[1]
        // FLOPs per token: forward 2·P (P = every linear incl. lm_head) + attention 4·(T/2)·d per layer; checkpointing
        // recomputes the layers (2·P_layers + attention); backward computes input gradients only for frozen weights
        // (2·P + 2× attention) plus LoRA's small products, which are left out.
        let d = Double(config.hiddenSize), f = Double(config.intermediateSize), layers = Double(config.numHiddenLayers)
        let kv = Double(config.numKeyValueHeads * config.headDim)
        let layerParameters = layers * (2 * d * d + 2 * d * kv + 3 * d * f)
        let headParameters = Double(config.vocabSize) * d
        let attention = layers * 4 * (Double(sequenceLength) / 2) * d
        let flopsPerToken = 2 * (layerParameters + headParameters) + attention  // forward
            + 2 * layerParameters + attention  // recomputation
            + 2 * (layerParameters + headParameters) + 2 * attention  // backward (input gradients)
        let tokensPerSecond = Double(sequenceLength) / seconds
        let achieved = flopsPerToken * tokensPerSecond / 1e9
        print("\nLoRA training (r 8, all-linear, AdamW, gradient checkpointing), SmolLM2-135M shape, 1×\(sequenceLength) tokens, median of 3 steps:")
        print(String(format: "%.0f tokens/s (%.3f s per step); %.2f GFLOP per token → %.1f GFLOP/s = %.2f× the %.1f GFLOP/s of a 512×1536×576 GEMM",
                     tokensPerSecond, seconds, flopsPerToken / 1e9, achieved, achieved / gemm, gemm))
    }

    func decoderBenchmark(_ backend: CPUBackend) throws {
        let config = Self.smolLM2Shape
        let model = try DecoderModel.randomlyInitialized(config: config, backend: backend, seed: 7)
        var generator = SeededGenerator(seed: 3)
        let sequences = (0..<batch).map { _ in
            (0..<sequenceLength).map { _ in Int32(generator.next() % UInt64(config.vocabSize)) }
        }
        let tokens = batch * sequenceLength
        let deviceBatch = try TokenBatch(sequences: sequences).upload(to: backend)
        _ = try model.loss(deviceBatch)
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try model.loss(deviceBatch).summary()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        print("\nDecoder forward + loss, SmolLM2-135M shape, \(batch)×\(sequenceLength) tokens, best of 3:")
        print(String(format: "%.0f tokens/s (%.3f s per batch)", Double(tokens) / best, best))
        model.gradientCheckpointing = false
        try model.setAllTrainable(true)
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try model.lossAndGradients(deviceBatch, gradientScale: 1 / Float(deviceBatch.scoredTokenCount)).summary()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(format: "forward + backward (full fine-tuning gradients): %.0f tokens/s (%.3f s)", Double(tokens) / seconds, seconds))
    }
}
