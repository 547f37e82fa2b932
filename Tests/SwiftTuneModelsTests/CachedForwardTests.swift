import Foundation
import Testing
import SwiftTuneCPU
import SwiftTuneNN
import SwiftTuneTensor
@testable import SwiftTuneModels

/// The cached forward pass of generation against the uncached `logits` of the whole sequence, step by step.
@Suite("Cached forward (paged KV cache)")
struct CachedForwardTests {
    /// Runs two sequences through the cache together: the first prefills 7 tokens then decodes one at a time, the
    /// second prefills in chunks of 3 (mixed prefill and decode in every step). After each step, each sequence's
    /// logits must equal the last row of `model.logits` over everything it has seen (≤ `tolerance` relative).
    static func checkAgainstUncached(_ model: DecoderModel, sequences: [[Int32]], label: String,
                                     tolerance: Double = 1e-5) throws {
        let backend = model.backend
        let cache = try model.makeKVCacheStorage(blockCount: 16, blockSize: 4)
        // Interleaved blocks, so neither table is contiguous: 5 blocks of 4 hold 20 tokens.
        let blocks: [[Int32]] = [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]
        var done = [0, 0]
        let chunk = [7, 3]
        var step = 0
        while done[0] < sequences[0].count || done[1] < sequences[1].count {
            var entries: [KVCacheBatch.Entry] = [], members: [Int] = []
            for s in 0..<2 where done[s] < sequences[s].count {
                let size = step == 0 || s == 1 ? chunk[s] : 1
                let end = min(done[s] + size, sequences[s].count)
                entries.append(KVCacheBatch.Entry(tokens: Array(sequences[s][done[s]..<end]), cachedLength: done[s],
                                                  blocks: blocks[s]))
                members.append(s)
            }
            let batch = try KVCacheBatch(entries: entries, blockSize: cache.blockSize).upload(to: backend)
            let logits = try backend.floats(model.cachedLogits(batch, cache: cache))
            let vocabulary = model.config.vocabSize
            for (row, s) in members.enumerated() {
                done[s] += entries[row].tokens.count
                let full = try TokenBatch(sequences: [Array(sequences[s][0..<done[s]])]).upload(to: backend)
                let expected = try backend.floats(model.logits(full)).suffix(vocabulary)
                expectClose(Array(logits[(row * vocabulary)..<((row + 1) * vocabulary)]), Array(expected),
                            relativeTolerance: tolerance, "\(label): sequence \(s) after \(done[s]) tokens (step \(step))")
            }
            step += 1
        }
    }

    /// The golden prompts, extended with more ids so decoding runs past the prompt (and past Mistral's window of 5).
    static func sequences(_ golden: Golden) -> [[Int32]] {
        let rows = golden.batch.sequenceStarts
        var generator = SeededGenerator(seed: 5)
        return (0..<2).map { s in
            let prompt = Array(golden.batch.inputIds[Int(rows[s])..<Int(rows[s + 1])])
            return prompt + (0..<8).map { _ in Int32(3 + generator.next() % UInt64(golden.model.config.vocabSize - 3)) }
        }
    }

    @Test(arguments: ["llama", "qwen2", "qwen3", "mistral"])
    func cachedLogitsEqualUncachedAtEveryStep(family: String) throws {
        let golden = try Golden(family, backend: CPUBackend(threadCount: 2))
        try Self.checkAgainstUncached(golden.model, sequences: Self.sequences(golden), label: family)
    }

    @Test func unmergedLoRAIsAppliedInTheCachedPass() throws {
        let golden = try Golden("qwen2", backend: CPUBackend(threadCount: 2))
        try golden.model.attachLoRA(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0), seed: 3, trainable: false)
        try DecoderLoRATests.randomizeB(golden.model, seed: 4)
        try Self.checkAgainstUncached(golden.model, sequences: Self.sequences(golden), label: "qwen2 + LoRA")
    }

    @Test func adaptersSwapInAndOut() throws {
        let golden = try Golden("qwen2", backend: CPUBackend(threadCount: 2))
        let batch = try golden.batch.upload(to: golden.backend)
        let base = try golden.backend.floats(golden.model.logits(batch))
        try golden.model.attachLoRA(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0), seed: 3, trainable: false)
        try DecoderLoRATests.randomizeB(golden.model, seed: 4)
        let adapted = try golden.backend.floats(golden.model.logits(batch))
        #expect(adapted != base)
        let set = try #require(try golden.model.detachLoRA())
        #expect(golden.model.loraConfiguration == nil && golden.model.loraModules.isEmpty)
        #expect(try golden.backend.floats(golden.model.logits(batch)) == base)
        try golden.model.attachLoRA(set)
        #expect(try golden.backend.floats(golden.model.logits(batch)) == adapted)
        try golden.model.mergeLoRA()
        #expect(throws: ModelError.self) { try golden.model.detachLoRA() }
    }

    @Test func aSequenceWhoseBlocksCannotHoldItsTokensIsRefused() throws {
        let golden = try Golden("llama", backend: CPUBackend(threadCount: 2))
        let cache = try golden.model.makeKVCacheStorage(blockCount: 3, blockSize: 4)
        #expect(cache.tokenCapacity == 12 && cache.keys.count == golden.model.config.numHiddenLayers)
        // Refused before anything runs.
        #expect(throws: ModelError.self) {
            try KVCacheBatch(entries: [.init(tokens: [1, 2, 3], cachedLength: 6, blocks: [0, 1])], blockSize: 4)
        }
        #expect(throws: ModelError.self) { try golden.model.makeKVCacheStorage(blockCount: 0, blockSize: 4) }
    }
}
