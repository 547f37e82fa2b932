import Foundation
import Testing
import SwiftTuneTensor
@testable import SwiftTuneGeneration

/// What one stream delivered.
struct Collected {
    var text = ""
    var tokenCount = 0
    var logprobs: [TokenLogprob] = []
    var result: GenerationResult?
    var failure: (any Error)?
}

func collect(_ stream: GenerationStream) async -> Collected {
    var collected = Collected()
    for await update in stream {
        switch update {
        case let .delta(text, count, logprobs):
            collected.text += text
            collected.tokenCount += count
            collected.logprobs += logprobs
        case let .finished(result): collected.result = result
        case let .failed(error): collected.failure = error
        }
    }
    return collected
}

/// Waits for the first delta of `stream`, then hands the rest of it to a task.
func startedCollecting(_ stream: GenerationStream) async -> Task<Collected, Never> {
    var iterator = stream.makeAsyncIterator()
    var first = Collected()
    if case let .delta(text, count, logprobs) = await iterator.next() {
        first.text = text
        first.tokenCount = count
        first.logprobs = logprobs
    }
    return Task { [first] in
        var collected = first
        while let update = await iterator.next() {
            switch update {
            case let .delta(text, count, logprobs):
                collected.text += text
                collected.tokenCount += count
                collected.logprobs += logprobs
            case let .finished(result): collected.result = result
            case let .failed(error): collected.failure = error
            }
        }
        return collected
    }
}

/// An engine whose context (2048, past the fixture's 128 positions: the scheduler does not care) lets a request
/// run for thousands of steps, so a test can act on it while it runs, however loaded the machine is.
func makeLongEngine(maxBatchSize: Int) throws -> GenerationEngine {
    try makeEngine(options: EngineOptions(maxBatchSize: maxBatchSize, maxModelLength: 2048))
}

func penalized(_ config: GenerationConfig, presence: Double, frequency: Double) -> GenerationConfig {
    var config = config
    config.presencePenalty = presence
    config.frequencyPenalty = frequency
    return config
}

@Suite("Batch scheduler: continuous batching")
struct BatchSchedulerTests {
    /// Requests that join a running batch between decode steps, greedy or seeded, with different adapters, get
    /// exactly the tokens they get alone, and every cache block is back in the pool afterwards.
    @Test func requestsJoiningMidRunGetTheSameTokensAsAlone() async throws {
        // The first request runs long enough (800 tokens) that every other one joins while it runs.
        let requests = [
            GenerationRequest(promptIDs: prompts[0], config: GenerationConfig(maxNewTokens: 800)),
            GenerationRequest(promptIDs: prompts[1], config: GenerationConfig(maxNewTokens: 12)),
            GenerationRequest(promptIDs: prompts[2], config: GenerationConfig(maxNewTokens: 16, temperature: 0.9, topK: 30,
                                                                              seed: 5, logprobs: true, topLogprobs: 2)),
            GenerationRequest(promptIDs: prompts[0], config: GenerationConfig(maxNewTokens: 10), adapter: "sw"),
            GenerationRequest(promptIDs: prompts[1], config: penalized(GenerationConfig(maxNewTokens: 10), presence: 1.5,
                                                                       frequency: 0.7)),
        ]
        let reference = try makeLongEngine(maxBatchSize: 1)
        try reference.registerAdapter(name: "sw", directory: swiftAdapter)
        let alone = try requests.map { try reference.generate([$0])[0] }

        let engine = try makeLongEngine(maxBatchSize: 3)
        try engine.registerAdapter(name: "sw", directory: swiftAdapter)
        let scheduler = BatchScheduler(engine: engine)
        let first = await startedCollecting(try await scheduler.submit(requests[0]))
        var tasks = [first]
        for request in requests.dropFirst() {  // each joins after the previous one has produced text
            tasks.append(await startedCollecting(try await scheduler.submit(request)))
        }
        for (index, task) in tasks.enumerated() {
            let collected = await task.value
            let result = try #require(collected.result, "request \(index) finished")
            expectSameTokens(result.tokenIDs, alone[index].tokenIDs, "request \(index)")
            #expect(result.text == alone[index].text && collected.text == result.text, "request \(index)")
            #expect(collected.tokenCount == result.tokenIDs.count, "request \(index): every token reported")
        }
        let sampled = await tasks[2].value
        #expect(sampled.logprobs.count == alone[2].tokenIDs.count && sampled.logprobs.allSatisfy { $0.topLogprobs.count == 2 })
        await scheduler.shutdown(gracePeriod: .seconds(5))
        #expect(engine.cache.freeBlockCount == engine.cache.blockCount, "every block is back in the pool")
        let statistics = scheduler.currentStatistics
        #expect(statistics.finished == requests.count && statistics.cancelled == 0 && statistics.running == 0)
        #expect(statistics.generatedTokens == alone.reduce(0) { $0 + $1.tokenIDs.count })
        #expect(statistics.steps < statistics.generatedTokens, "requests shared steps")
        #expect(statistics.promptTokens == requests.reduce(0) { $0 + $1.promptIDs.count })
    }

    /// A consumer that goes away (its task cancelled, or `cancel()`) stops its request at the next step: the
    /// slot and the cache blocks go to the next request.
    @Test func cancellationFreesTheSlot() async throws {
        let engine = try makeLongEngine(maxBatchSize: 1)
        let scheduler = BatchScheduler(engine: engine)
        let long = GenerationRequest(promptIDs: prompts[0])  // until the context is full: 2041 tokens
        let consumer = await startedCollecting(try await scheduler.submit(long))
        consumer.cancel()
        let cancelled = await consumer.value
        #expect(cancelled.result == nil && cancelled.tokenCount < 2048 - prompts[0].count)

        let second = try await scheduler.submit(long)
        var iterator = second.makeAsyncIterator()
        _ = await iterator.next()
        second.cancel()
        while await iterator.next() != nil {}

        let next = await collect(try await scheduler.submit(GenerationRequest(promptIDs: prompts[1],
                                                                              config: GenerationConfig(maxNewTokens: 4))))
        #expect(next.result?.tokenIDs.count == 4)
        await scheduler.shutdown(gracePeriod: .seconds(5))
        #expect(engine.cache.freeBlockCount == engine.cache.blockCount)
        let statistics = scheduler.currentStatistics
        #expect(statistics.cancelled == 2 && statistics.finished == 1)
        #expect(statistics.generatedTokens < 2048 - prompts[0].count, "the cancelled requests stopped early")
    }

    /// Requests past the queue limit are refused at once; the engine's own checks fail `submit` too.
    @Test func aFullQueueRefusesRequests() async throws {
        let engine = try makeLongEngine(maxBatchSize: 1)
        let scheduler = BatchScheduler(engine: engine, options: SchedulerOptions(queueLimit: 1))
        let running = try await scheduler.submit(GenerationRequest(promptIDs: prompts[0]))
        var iterator = running.makeAsyncIterator()
        _ = await iterator.next()  // running now, so the queue is empty
        let waiting = try await scheduler.submit(GenerationRequest(promptIDs: prompts[1]))
        await #expect(throws: GenerationError.queueFull(limit: 1)) {
            _ = try await scheduler.submit(GenerationRequest(promptIDs: prompts[2]))
        }
        running.cancel()
        waiting.cancel()
        let deadline = ContinuousClock.now + .seconds(10)
        while scheduler.currentStatistics.cancelled < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        await #expect(throws: GenerationError.unknownAdapter(name: "missing", known: [])) {
            _ = try await scheduler.submit(GenerationRequest(promptIDs: prompts[1], adapter: "missing"))
        }
        await #expect(throws: GenerationError.self, "an empty prompt") {
            _ = try await scheduler.submit(GenerationRequest(promptIDs: []))
        }
        await scheduler.shutdown(gracePeriod: .seconds(5))
        #expect(scheduler.currentStatistics.rejected == 1)
        #expect(engine.cache.freeBlockCount == engine.cache.blockCount)
    }

    /// Shutting down refuses new requests, lets those in flight finish within the grace period, and stops the
    /// rest when it ends.
    @Test func shutdownFinishesOrStopsRequestsInFlight() async throws {
        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 2, maxModelLength: 128))
        let scheduler = BatchScheduler(engine: engine)
        let short = await startedCollecting(try await scheduler.submit(
            GenerationRequest(promptIDs: prompts[1], config: GenerationConfig(maxNewTokens: 6))))
        await scheduler.shutdown(gracePeriod: .seconds(30))
        #expect(await short.value.result?.tokenIDs.count == 6, "finished within the grace period")
        await #expect(throws: GenerationError.self) { _ = try await scheduler.submit(GenerationRequest(promptIDs: prompts[0])) }

        let other = BatchScheduler(engine: try makeLongEngine(maxBatchSize: 1))
        let long = await startedCollecting(try await other.submit(GenerationRequest(promptIDs: prompts[0])))
        await other.shutdown(gracePeriod: .zero)
        let stopped = await long.value
        #expect(stopped.result == nil)
        #expect((stopped.failure as? GenerationError).map { if case .shuttingDown = $0 { true } else { false } } == true)
        #expect(!other.isAccepting && other.currentStatistics.cancelled == 1)
    }

    /// OpenAI's presence and frequency penalties count the answer's tokens only: `s − c·frequency − presence`.
    @Test func presenceAndFrequencyPenaltiesCountTheAnswer() {
        var scores: [Float] = [1, 1, 1, 1]
        TokenSampler.penalizeOccurrences(&scores, answer: [2, 2, 3][...], presence: 0.5, frequency: 0.25)
        #expect(scores == [1, 1, 1 - 0.5 - 0.5, 1 - 0.25 - 0.5])
        var generator = SeededGenerator(seed: 1)
        let logits: [Float] = [0, 3, 2.9, 0]
        let config = penalized(GenerationConfig(), presence: 1, frequency: 0)
        let withPromptOnly = logits.withUnsafeBufferPointer {
            TokenSampler.choose($0, history: [1, 1], answerStart: 2, config: config, generator: &generator)
        }
        #expect(withPromptOnly.token == 1, "the prompt's tokens are not penalised")
        let withAnswer = logits.withUnsafeBufferPointer {
            TokenSampler.choose($0, history: [0, 1], answerStart: 1, config: config, generator: &generator)
        }
        #expect(withAnswer.token == 2, "token 1 is in the answer: 3 − 1 < 2.9")
        #expect(throws: GenerationError.self) { try penalized(GenerationConfig(), presence: 0, frequency: 2.5).validate() }
    }
}
