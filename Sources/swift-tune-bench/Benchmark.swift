import ArgumentParser
import Foundation
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneTensor

/// Benchmarks (not tests): CPU GEMM against numpy in the same run, and decoder forward throughput.
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
    @Option(help: "Run the tokenizer benchmark instead: a folder with tokenizer.json.")
    var tokenizer: String?
    @Argument(help: "With --tokenizer: the text files to encode (alpaca .json, .jsonl or plain text).")
    var files: [String] = []

    func run() throws {
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

    func decoderBenchmark(_ backend: CPUBackend) throws {
        // SmolLM2-135M's shape: 30 layers, d 576, ffn 1536, 9 heads / 3 kv heads, vocab 49,152, tied embeddings.
        let config = DecoderConfig(
            modelType: .llama, vocabSize: 49_152, hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30,
            numAttentionHeads: 9, numKeyValueHeads: 3, rmsNormEps: 1e-5, ropeTheta: 100_000,
            maxPositionEmbeddings: 8192, tieWordEmbeddings: true)
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
