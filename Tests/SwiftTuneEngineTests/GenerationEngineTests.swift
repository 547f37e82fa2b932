import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneCPU
import SwiftTuneModels
import SwiftTuneTensor
import SwiftTuneTokenizers
@testable import SwiftTuneEngine

@Suite("Generation engine")
struct GenerationEngineTests {
    /// Greedy decoding through the cache picks, at every step, the argmax of the uncached logits of the whole
    /// sequence, and its log-probabilities are those logits' log-softmax (≤ 1e-5 relative).
    @Test(arguments: ["qwen2", "mistral"])
    func cachedDecodingFollowsTheUncachedLogits(family: String) throws {
        let engine = try makeEngine(family: family)
        let config = GenerationConfig(maxNewTokens: 12, logprobs: true)
        let result = try engine.generate([GenerationRequest(promptIDs: prompts[0], config: config)])[0]
        #expect(result.tokenIDs.count == 12)
        let backend = engine.model.backend, vocabulary = engine.model.config.vocabSize
        let sequence = prompts[0] + result.tokenIDs
        let logits = try backend.floats(engine.model.logits(try TokenBatch(sequences: [sequence]).upload(to: backend)))
        for (step, token) in result.tokenIDs.enumerated() {
            let row = Array(logits[((prompts[0].count - 1 + step) * vocabulary)..<((prompts[0].count + step) * vocabulary)])
            #expect(Int32(TokenSampler.argmax(row)) == token, "\(family) step \(step)")
            let expected = Double(row[Int(token)]) - row.withUnsafeBufferPointer(TokenSampler.logSumExp)
            let actual = try #require(result.logprobs?[step].logprob)
            #expect(abs(actual - expected) <= 1e-5 * max(1, abs(expected)), "\(family) step \(step): \(actual) vs \(expected)")
        }
    }

    /// Requests of different lengths stepping together (prefill and decode mixed, joining as others finish) give
    /// what each gives alone, greedy and sampled.
    @Test func batchedRequestsEqualTheSameRequestsAlone() throws {
        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 2, maxModelLength: 128))
        let configs = [GenerationConfig(maxNewTokens: 10),
                       GenerationConfig(maxNewTokens: 6, temperature: 0.8, topK: 20, seed: 7),
                       GenerationConfig(maxNewTokens: 14, temperature: 1.2, topP: 0.9, minP: 0.02, repetitionPenalty: 1.3,
                                        seed: 8, logprobs: true, topLogprobs: 3)]
        let requests = zip(prompts, configs).map { GenerationRequest(promptIDs: $0, config: $1) }
        let batched = try engine.generate(requests + requests.reversed())
        for (index, request) in requests.enumerated() {
            let alone = try engine.generate([request])[0]
            expectSameTokens(batched[index].tokenIDs, alone.tokenIDs, "request \(index)")
            expectSameTokens(batched[batched.count - 1 - index].tokenIDs, alone.tokenIDs, "request \(index), second copy")
            #expect(batched[index].text == alone.text)
            if let expected = alone.logprobs, let actual = batched[index].logprobs {
                for (a, e) in zip(actual, expected) { #expect(abs(a.logprob - e.logprob) <= 1e-5) }
                #expect(actual.map { $0.topLogprobs.count } == Array(repeating: 3, count: expected.count))
            }
        }
        #expect(engine.cacheBlocks.free == engine.cacheBlocks.total, "every block is back in the pool")
    }

    @Test func samplingWithAFixedSeedIsReproducible() throws {
        let config = GenerationConfig(maxNewTokens: 20, temperature: 1.5, seed: 1234)
        let first = try makeEngine().generate([GenerationRequest(promptIDs: prompts[1], config: config)])[0]
        let second = try makeEngine().generate([GenerationRequest(promptIDs: prompts[1], config: config)])[0]
        #expect(first.tokenIDs == second.tokenIDs)
        var other = config
        other.seed = 99
        let third = try makeEngine().generate([GenerationRequest(promptIDs: prompts[1], config: other)])[0]
        #expect(third.tokenIDs != first.tokenIDs, "another seed draws other tokens")
    }

    @Test func stopTokensAndLengthEndTheAnswer() throws {
        let engine = try makeEngine()
        let free = try engine.generate([GenerationRequest(promptIDs: prompts[0], config: GenerationConfig(maxNewTokens: 8))])[0]
        #expect(free.finishReason == .length && free.tokenIDs.count == 8)
        // Stopping on the fourth token: it ends the answer, is returned in tokenIDs and is not part of the text.
        let stop = free.tokenIDs[3]
        let stopped = try engine.generate([GenerationRequest(
            promptIDs: prompts[0], config: GenerationConfig(maxNewTokens: 8, stopTokenIDs: [stop]))])[0]
        let firstStop = try #require(free.tokenIDs.firstIndex(of: stop))
        #expect(stopped.finishReason == .stop && stopped.tokenIDs == Array(free.tokenIDs[...firstStop]))
        #expect(stopped.text == engine.tokenizer.decode(Array(free.tokenIDs[..<firstStop]), skipSpecialTokens: false))
        // The context ends an answer too.
        let tight = try makeEngine(options: EngineOptions(maxBatchSize: 1, maxModelLength: prompts[2].count + 3))
        let full = try tight.generate([GenerationRequest(promptIDs: prompts[2])])[0]
        #expect(full.finishReason == .length && full.tokenIDs.count == 3)
    }

    @Test func stopStringsEndTheAnswerAcrossTokens() throws {
        let engine = try makeEngine()
        // This prompt and penalty make the random model write ASCII (`33333\u{10}…`), one character per token.
        let prompt: [Int32] = [3, 4], config = GenerationConfig(maxNewTokens: 24, repetitionPenalty: 1.5)
        let free = try engine.generate([GenerationRequest(promptIDs: prompt, config: config)])[0]
        // A stop string spanning several tokens.
        let text = free.text
        try #require(text.count >= 8, "the answer is long enough to cut: \(text.debugDescription)")
        let start = text.index(text.startIndex, offsetBy: 3)
        let stop = String(text[start..<text.index(start, offsetBy: 4)])
        var deltas: [String] = []
        var stopping = config
        stopping.stopStrings = [stop]
        let cut = try engine.generate([GenerationRequest(promptIDs: prompt, config: stopping)]) { event in
            if case let .delta(_, text) = event { deltas.append(text) }
        }[0]
        let expected = String(text[..<text.range(of: stop)!.lowerBound])
        #expect(cut.text == expected && cut.finishReason == .stop)
        #expect(deltas.joined() == expected, "the streamed deltas never show the stop string: \(deltas)")
    }

    @Test func streamingIsAnAsyncSequenceOfTheSameText() async throws {
        let engine = try makeEngine()
        let request = GenerationRequest(promptIDs: prompts[1], config: GenerationConfig(maxNewTokens: 16))
        let whole = try engine.generate([request])[0].text
        var streamed = ""
        for try await delta in engine.stream(request) { streamed += delta }
        #expect(streamed == whole)
    }

    /// Requests name adapters: each group runs with its adapter, the others with the base model, in one batch.
    @Test func perRequestAdaptersMatchTheAdapterAlone() throws {
        let config = GenerationConfig(maxNewTokens: 10)
        let engine = try makeEngine()
        try engine.registerAdapter(name: "swift", directory: swiftAdapter)
        #expect(engine.adapterNames == ["swift"])
        let mixed = try engine.generate([GenerationRequest(promptIDs: prompts[0], config: config, adapter: "swift"),
                                         GenerationRequest(promptIDs: prompts[0], config: config),
                                         GenerationRequest(promptIDs: prompts[1], config: config, adapter: "swift")])
        let base = try makeEngine().generate([GenerationRequest(promptIDs: prompts[0], config: config)])[0]
        let adapted = try makeEngine()
        try LoRAAdapter.load(from: swiftAdapter, into: adapted.model)
        let withAdapter = try adapted.generate([GenerationRequest(promptIDs: prompts[0], config: config),
                                                GenerationRequest(promptIDs: prompts[1], config: config)])
        expectSameTokens(mixed[0].tokenIDs, withAdapter[0].tokenIDs, "adapter request 0")
        expectSameTokens(mixed[2].tokenIDs, withAdapter[1].tokenIDs, "adapter request 2")
        expectSameTokens(mixed[1].tokenIDs, base.tokenIDs, "base request")
        #expect(mixed[0].tokenIDs != mixed[1].tokenIDs, "the adapter changes the answer")
        #expect(engine.model.loraConfiguration == nil, "the base model is left as it was")
        // Merged, the adapter gives the same greedy tokens as unmerged.
        try adapted.model.mergeLoRA()
        let merged = try adapted.generate([GenerationRequest(promptIDs: prompts[0], config: config)])[0]
        expectSameTokens(merged.tokenIDs, withAdapter[0].tokenIDs, "merged adapter")
        #expect(throws: GenerationError.self) {
            try engine.generate([GenerationRequest(promptIDs: prompts[0], adapter: "nope")])
        }
    }

    @Test func anAdapterForAnotherModelNamesTheTensorAndShapes() throws {
        let engine = try makeEngine(family: "llama")
        do {
            try engine.registerAdapter(name: "qwen", directory: swiftAdapter)
            Issue.record("a qwen2 adapter loaded into llama")
        } catch let error as AdapterError {
            guard case let .shapeMismatch(_, key, expected, got, _) = error else {
                Issue.record("expected a shape mismatch, got \(error)")
                return
            }
            #expect(key.hasPrefix("base_model.model.model.layers.0.") && expected != got, "\(error)")
        }
        #expect(engine.model.loraConfiguration == nil)
    }

    @Test func promptsLongerThanTheContextFailOrKeepTheirEnd() throws {
        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 1, maxModelLength: 10))
        let long = Array(repeating: Int32(7), count: 12) + [8, 9]
        #expect(throws: GenerationError.promptTooLong(
            request: 0, tokens: 14, limit: 10,
            hint: "shorten it, raise --max_model_len, or keep its end with --truncation_strategy left")) {
            try engine.generate([GenerationRequest(promptIDs: long, config: GenerationConfig(maxNewTokens: 3))])
        }
        let kept = try engine.generate([GenerationRequest(
            promptIDs: long, config: GenerationConfig(maxNewTokens: 3, truncation: .left))])[0]
        #expect(kept.promptTokenCount == 7 && kept.tokenIDs.count == 3)
        let same = try engine.generate([GenerationRequest(promptIDs: Array(long.suffix(7)),
                                                          config: GenerationConfig(maxNewTokens: 3))])[0]
        #expect(kept.tokenIDs == same.tokenIDs)
        #expect(throws: GenerationError.self) { try engine.generate([GenerationRequest(promptIDs: [])]) }
        #expect(throws: GenerationError.self) { try engine.generate([GenerationRequest(promptIDs: [5, 300])]) }
    }

    @Test func badSamplingValuesNameTheFlag() throws {
        let cases: [(GenerationConfig, String)] = [
            (GenerationConfig(temperature: -0.5), "temperature"),
            (GenerationConfig(temperature: .nan), "temperature"),
            (GenerationConfig(topP: 0), "top_p"),
            (GenerationConfig(topP: 1.5), "top_p"),
            (GenerationConfig(topK: -1), "top_k"),
            (GenerationConfig(minP: 2), "min_p"),
            (GenerationConfig(repetitionPenalty: 0), "repetition_penalty"),
            (GenerationConfig(maxNewTokens: 0), "max_new_tokens"),
            (GenerationConfig(logprobs: true, topLogprobs: 21), "top_logprobs"),
            (GenerationConfig(topLogprobs: 2), "top_logprobs"),
        ]
        for (config, flag) in cases {
            do {
                try config.validate()
                Issue.record("\(flag): \(config) was accepted")
            } catch {
                #expect(error.description.hasPrefix("--\(flag) "), "\(error)")
            }
        }
        #expect(throws: GenerationError.self) {
            try makeEngine().generate([GenerationRequest(promptIDs: prompts[0], config: GenerationConfig(temperature: -1))])
        }
    }
}

@Suite("KV cache block pool")
struct KVCachePoolTests {
    @Test func blocksAreCountedAndReturned() throws {
        let engine = try makeEngine(family: "llama")
        let cache = KVCache(storage: try engine.model.makeKVCacheStorage(blockCount: 3, blockSize: 4))
        #expect(cache.blocksNeeded(forTokens: 9) == 3 && cache.tokenCapacity == 12)
        let taken = try #require(cache.allocateBlocks(2))
        #expect(taken == [0, 1] && cache.freeBlockCount == 1)
        #expect(cache.allocateBlocks(2) == nil && cache.freeBlockCount == 1, "nothing is taken when too few are free")
        cache.release(taken)
        #expect(cache.freeBlockCount == 3)
        #expect(cache.allocateBlocks(3) == [0, 1, 2], "blocks come back in order")
    }
}

@Suite("Generation engine: the step-wise surface")
struct EngineStepTests {
    /// prepare → admit (the batch and the cache decide) → step → release gives what `generate` gives; a third
    /// sequence waits for a place in a batch of two.
    @Test func steppingByHandEqualsGenerate() throws {
        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 2, maxModelLength: 64))
        let configs = [GenerationConfig(maxNewTokens: 5), GenerationConfig(maxNewTokens: 7, temperature: 0.9, seed: 3),
                       GenerationConfig(maxNewTokens: 4, logprobs: true)]
        let requests = zip(prompts, configs).map { GenerationRequest(promptIDs: $0, config: $1) }
        let expected = try engine.generate(requests)
        let sequences = try requests.enumerated().map { try engine.prepare($0.element, id: $0.offset) }
        #expect(engine.admit(sequences[0]) && engine.admit(sequences[1]) && engine.admit(sequences[0]))
        #expect(!engine.admit(sequences[2]), "the batch holds two")
        var active = Array(sequences.prefix(2)), waiting = [sequences[2]], texts = ["", "", ""], prompted = 0
        while !active.isEmpty {
            prompted += try engine.step(active) { texts[$0] += $1 }
            for sequence in active where sequence.result != nil { engine.release(sequence) }
            active.removeAll { $0.result != nil }
            while let next = waiting.first, engine.admit(next) {
                active.append(next)
                waiting.removeFirst()
            }
        }
        #expect(waiting.isEmpty)
        for (index, sequence) in sequences.enumerated() {
            expectSameTokens(try #require(sequence.result).tokenIDs, expected[index].tokenIDs, "request \(index)")
            #expect(texts[index] == expected[index].text && sequence.result?.logprobs == expected[index].logprobs)
        }
        #expect(prompted == prompts.reduce(0) { $0 + $1.count })
        #expect(engine.cacheBlocks.free == engine.cacheBlocks.total)
    }

    @Test func stepsRefuseWhatTheyCannotRun() throws {
        let engine = try makeEngine()
        try engine.registerAdapter(name: "sw", directory: swiftAdapter)
        let base = try engine.prepare(GenerationRequest(promptIDs: prompts[0]), id: 0)
        let adapted = try engine.prepare(GenerationRequest(promptIDs: prompts[1], adapter: "sw"), id: 1)
        #expect(throws: GenerationError.self, "not admitted") { try engine.step([base]) }
        #expect(engine.admit(base) && engine.admit(adapted))
        #expect(throws: GenerationError.self, "two adapters") { try engine.step([base, adapted]) }
        #expect(throws: GenerationError.self, "nothing to step") { try engine.step([]) }
        try engine.step([adapted])
        try engine.restoreModelAdapter()
        #expect(engine.model.loraConfiguration == nil)
        engine.release(base)
        engine.release(adapted)
        engine.release(adapted)  // a second release is harmless
        #expect(engine.cacheBlocks.free == engine.cacheBlocks.total)
    }

    /// A request that asks for top log-probabilities is picked on the host, the others on the device: both paths
    /// give the same tokens and log-probabilities. Each runs alone, so both read the same logits bit for bit (a
    /// BLAS may round a row differently by where it sits in a batch: OpenBLAS on AMD EPYC does, by ~1e-7).
    @Test func hostAndDevicePathsAgree() throws {
        let engine = try makeEngine()
        for config in [GenerationConfig(maxNewTokens: 12, logprobs: true),
                       GenerationConfig(maxNewTokens: 12, temperature: 1.1, topP: 0.8, repetitionPenalty: 1.2, seed: 9,
                                        logprobs: true)] {
            var host = config
            host.topLogprobs = 2
            let results = try engine.generate([GenerationRequest(promptIDs: prompts[2], config: config)])
                + engine.generate([GenerationRequest(promptIDs: prompts[2], config: host)])
            expectSameTokens(results[0].tokenIDs, results[1].tokenIDs, "device vs host")
            #expect(results[0].logprobs?.map(\.logprob) == results[1].logprobs?.map(\.logprob))
        }
    }
}
