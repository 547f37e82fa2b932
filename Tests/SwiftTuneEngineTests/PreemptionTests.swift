import Foundation
import Testing
@testable import SwiftTuneEngine

/// Blocks taken as answers grow, and recompute preemption when the cache runs out: a request sent back to the queue
/// resumes with the same tokens it gets with a cache large enough for everyone.
@Suite("Generation engine: a KV cache smaller than the batch")
struct PreemptionTests {
    /// Four requests whose prompts fit the 10-block cache together but whose answers do not: the newest are
    /// preempted (several times) and recomputed; greedy, seeded, penalised and log-probability answers are the
    /// same as with a cache large enough for all, with and without prefix caching.
    static let requests = [
        GenerationRequest(promptIDs: prompts[0], config: GenerationConfig(maxNewTokens: 16)),
        GenerationRequest(promptIDs: prompts[1], config: GenerationConfig(maxNewTokens: 16, temperature: 0.9, topK: 30, seed: 5,
                                                                          logprobs: true, topLogprobs: 2)),
        GenerationRequest(promptIDs: prompts[2], config: GenerationConfig(maxNewTokens: 16, repetitionPenalty: 1.3)),
        GenerationRequest(promptIDs: prompts[0] + prompts[1], config: GenerationConfig(maxNewTokens: 12, temperature: 1.1, seed: 9)),
    ]

    /// The cache: 10 blocks of 4 tokens; the largest request (19 + 16 tokens) needs 9 of them alone.
    static func smallCache(prefixCaching: Bool) -> EngineOptions {
        EngineOptions(maxBatchSize: 4, maxModelLength: 64, blockSize: 4, cacheTokens: 40, prefixCaching: prefixCaching)
    }

    @Test(arguments: [false, true])
    func preemptedRequestsGetTheSameAnswers(prefixCaching: Bool) throws {
        let roomy = try makeEngine(options: EngineOptions(maxBatchSize: 4, maxModelLength: 64, blockSize: 4))
        let expected = try roomy.generate(Self.requests)
        #expect(roomy.preemptions == 0)

        let engine = try makeEngine(options: Self.smallCache(prefixCaching: prefixCaching))
        let results = try engine.generate(Self.requests)
        #expect(engine.preemptions >= 2, "the cache is too small for four answers at once: \(engine.preemptions) preemptions")
        #expect(results.count == Self.requests.count)
        for (index, (result, reference)) in zip(results, expected).enumerated() {
            expectSameTokens(result.tokenIDs, reference.tokenIDs, "request \(index)")
            #expect(result.text == reference.text && result.finishReason == reference.finishReason, "request \(index)")
            if let actual = result.logprobs, let wanted = reference.logprobs {
                #expect(actual.count == wanted.count)
                for (a, e) in zip(actual, wanted) { #expect(abs(a.logprob - e.logprob) <= 1e-5, "request \(index)") }
            }
        }
        #expect(engine.cacheBlocks.free == engine.cacheBlocks.total, "every block is back in the pool")
    }

    /// Step by step: admission needs only the prompt's blocks; a step that cannot grow every sequence preempts the
    /// newest (it holds nothing and did not step), and admitted again it goes on.
    @Test func aStepPreemptsTheNewestAndAdmissionResumesIt() throws {
        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 2, maxModelLength: 32, blockSize: 4, cacheTokens: 16))
        let first = try engine.prepare(GenerationRequest(promptIDs: Array(prompts[2].prefix(8)),
                                                         config: GenerationConfig(maxNewTokens: 8)), id: 0)
        let second = try engine.prepare(GenerationRequest(promptIDs: Array(prompts[0].prefix(7)),
                                                          config: GenerationConfig(maxNewTokens: 8)), id: 1)
        #expect(engine.admit(first) && engine.admit(second), "8 + 7 prompt tokens fit 4 blocks")
        #expect(engine.cacheBlocks.free == 0)
        try engine.step([first, second])  // both prefill; `first` samples token 9 and needs a third block next
        #expect(first.tokens.count == 9 && second.tokens.count == 8)
        try engine.step([first, second])
        #expect(second.isPreempted && !first.isPreempted, "the newest gives its blocks to the oldest")
        #expect(first.tokens.count == 10 && second.tokens.count == 8 && engine.preemptions == 1)
        #expect(!engine.admit(second), "its tokens do not fit beside the first's blocks")
        while first.result == nil { try engine.step([first]) }
        engine.release(first)
        #expect(engine.admit(second) && !second.isPreempted)
        while second.result == nil { try engine.step([second]) }
        engine.release(second)

        let roomy = try makeEngine(options: EngineOptions(maxBatchSize: 2, maxModelLength: 32, blockSize: 4))
        let expected = try roomy.generate([first.request, second.request])
        expectSameTokens(try #require(first.result).tokenIDs, expected[0].tokenIDs, "first")
        expectSameTokens(try #require(second.result).tokenIDs, expected[1].tokenIDs, "second")
        #expect(second.preemptions == 1 && engine.cacheBlocks.free == engine.cacheBlocks.total)
    }

    /// Through the scheduler: preempted requests wait at the head of the queue and their streams carry every token
    /// once; the counters say how many times it happened.
    @Test func theSchedulerRequeuesPreemptedRequests() async throws {
        let roomy = try makeEngine(options: EngineOptions(maxBatchSize: 4, maxModelLength: 64, blockSize: 4))
        let expected = try roomy.generate(Self.requests)
        let engine = try makeEngine(options: Self.smallCache(prefixCaching: true))
        let gate = StepGate()
        let scheduler = BatchScheduler(engine: engine, options: SchedulerOptions(), gate: gate)
        var collectors: [Task<Collected, Never>] = []
        for request in Self.requests {  // all four are taken in by one pass, so they start together
            let submission = Task { try await scheduler.submit(request) }
            while scheduler.incomingCount < collectors.count + 1 { try await Task.sleep(for: .milliseconds(1)) }
            collectors.append(Task { await collect(try! await submission.value) })
        }
        gate.open()
        for (index, collector) in collectors.enumerated() {
            let collected = await collector.value
            let result = try #require(collected.result, "request \(index) finished: \(String(describing: collected.failure))")
            expectSameTokens(result.tokenIDs, expected[index].tokenIDs, "request \(index)")
            #expect(collected.text == expected[index].text && collected.tokenCount == result.tokenIDs.count, "request \(index)")
        }
        await scheduler.shutdown(gracePeriod: .seconds(5))
        let statistics = scheduler.currentStatistics
        #expect(statistics.preempted == engine.preemptions && statistics.preempted >= 2, "\(statistics)")
        #expect(statistics.finished == Self.requests.count && statistics.failed == 0 && statistics.waiting == 0)
        #expect(engine.cacheBlocks.free == engine.cacheBlocks.total)
    }
}
