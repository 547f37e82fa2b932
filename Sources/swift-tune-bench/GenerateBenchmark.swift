import Foundation
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneEngine
import SwiftTuneModels
import SwiftTuneTensor
import SwiftTuneTokenizers

/// Generation throughput through `GenerationEngine` (paged KV cache, host sampling, streaming text), greedy.
///
/// For each batch size B: B random prompts of `promptLength` tokens. Prefill: `generate` with one new token per
/// request (one forward pass over all B prompts, then one pick each), tokens/s = B·promptLength / time. Decode: the
/// same requests with `1 + decodeTokens` new tokens; decode tokens/s = B·decodeTokens / (that time − the prefill
/// time). Each figure is the best of `repeats` runs after a warm-up. Text decoding uses `tokenizerDirectory` when
/// given (the real SmolLM2 tokenizer for that shape), else no tokenizer work beyond the fixture's.
func runGenerateBenchmark(_ backend: CPUBackend, config: DecoderConfig, promptLength: Int, decodeTokens: Int,
                          batchSizes: [Int], repeats: Int, tokenizerDirectory: URL) throws {
    let model = try DecoderModel.randomlyInitialized(config: config, backend: backend, seed: 7)
    let tokenizer = try Tokenizer(contentsOf: tokenizerDirectory)
    print("\nGeneration (greedy, GenerationEngine), SmolLM2-135M shape, random weights, prompts of \(promptLength) tokens, "
        + "\(decodeTokens) decoded tokens, best of \(repeats); tokenizer \(tokenizerDirectory.lastPathComponent):")
    print("| batch | prefill tokens/s | prefill s | decode tokens/s | decode ms/step |")
    print("| --- | --- | --- | --- | --- |")
    var generator = SeededGenerator(seed: 11)
    for batch in batchSizes {
        let engine = try GenerationEngine(model: model, tokenizer: tokenizer, options: EngineOptions(
            maxBatchSize: batch, maxModelLength: promptLength + decodeTokens + 1))
        let prompts = (0..<batch).map { _ in
            (0..<promptLength).map { _ in Int32(generator.next() % UInt64(config.vocabSize)) }
        }
        func seconds(newTokens: Int) throws -> Double {
            let requests = prompts.map { GenerationRequest(promptIDs: $0, config: GenerationConfig(maxNewTokens: newTokens)) }
            var best = Double.infinity
            for run in 0...repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                let results = try engine.generate(requests)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                precondition(results.allSatisfy { $0.tokenIDs.count == newTokens }, "every request decodes all its tokens")
                if run > 0 { best = min(best, elapsed) }  // run 0 warms up
            }
            return best
        }
        let prefill = try seconds(newTokens: 1)
        let whole = try seconds(newTokens: 1 + decodeTokens)
        let decode = max(whole - prefill, 1e-9)
        print("| \(batch) | " + String(format: "%.0f | %.3f | %.1f | %.1f |", Double(batch * promptLength) / prefill, prefill,
                                       Double(batch * decodeTokens) / decode, 1000 * decode / Double(decodeTokens)))
    }
}
