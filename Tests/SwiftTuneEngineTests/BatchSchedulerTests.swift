import Foundation
import Testing
import SwiftTuneTensor
@testable import SwiftTuneEngine

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

func penalized(_ config: GenerationConfig, presence: Double, frequency: Double) -> GenerationConfig {
    var config = config
    config.presencePenalty = presence
    config.frequencyPenalty = frequency
    return config
}

extension BatchScheduler {
    /// Submits `request` and lets exactly one pass of the loop through `gate` once the thread can see it: the
    /// request is taken in, and the batch (with it) steps once. Deterministic however loaded the machine is.
    func submit(_ request: GenerationRequest, through gate: StepGate) async throws -> GenerationStream {
        let before = incomingCount
        let submission = Task { try await submit(request) }
        while incomingCount == before { try await Task.sleep(for: .milliseconds(1)) }
        gate.allow(1)
        return try await submission.value
    }

    /// Waits (bounded) until the counters satisfy `condition`.
    func waitFor(_ condition: (SchedulerStatistics) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition(currentStatistics), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
    }
}

@Suite("Batch scheduler: continuous batching")
struct BatchSchedulerTests {
    /// Requests that join a running batch between decode steps (one step apart, held by a gate), greedy or seeded,
    /// with an adapter or penalties, get exactly the tokens they get alone; every cache block returns to the pool.
    @Test func requestsJoiningMidRunGetTheSameTokensAsAlone() async throws {
        let requests = [
            GenerationRequest(promptIDs: prompts[0], config: GenerationConfig(maxNewTokens: 40)),
            GenerationRequest(promptIDs: prompts[1], config: GenerationConfig(maxNewTokens: 12)),
            GenerationRequest(promptIDs: prompts[2], config: GenerationConfig(maxNewTokens: 16, temperature: 0.9, topK: 30,
                                                                              seed: 5, logprobs: true, topLogprobs: 2)),
            GenerationRequest(promptIDs: prompts[0], config: GenerationConfig(maxNewTokens: 10), adapter: "sw"),
            GenerationRequest(promptIDs: prompts[1], config: penalized(GenerationConfig(maxNewTokens: 10), presence: 1.5,
                                                                       frequency: 0.7)),
        ]
        let reference = try makeEngine()
        try reference.registerAdapter(name: "sw", directory: swiftAdapter)
        let alone = try requests.map { try reference.generate([$0])[0] }

        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 3, maxModelLength: 128))
        try engine.registerAdapter(name: "sw", directory: swiftAdapter)
        let gate = StepGate()
        let scheduler = BatchScheduler(engine: engine, options: SchedulerOptions(), gate: gate)
        var collectors: [Task<Collected, Never>] = []
        for request in requests {  // request k joins when the first has k tokens (the last two queue for a place)
            let stream = try await scheduler.submit(request, through: gate)
            collectors.append(Task { await collect(stream) })
        }
        gate.open()
        for (index, collector) in collectors.enumerated() {
            let collected = await collector.value
            let result = try #require(collected.result, "request \(index) finished")
            expectSameTokens(result.tokenIDs, alone[index].tokenIDs, "request \(index)")
            #expect(result.text == alone[index].text && collected.text == result.text, "request \(index)")
            #expect(collected.tokenCount == result.tokenIDs.count, "request \(index): every token reported")
        }
        let sampled = await collectors[2].value
        #expect(sampled.logprobs.count == alone[2].tokenIDs.count && sampled.logprobs.allSatisfy { $0.topLogprobs.count == 2 })
        await scheduler.shutdown(gracePeriod: .seconds(5))
        #expect(engine.cacheBlocks.free == engine.cacheBlocks.total, "every block is back in the pool")
        let statistics = scheduler.currentStatistics
        #expect(statistics.finished == requests.count && statistics.cancelled == 0 && statistics.running == 0)
        #expect(statistics.generatedTokens == alone.reduce(0) { $0 + $1.tokenIDs.count })
        #expect(statistics.steps < statistics.generatedTokens, "requests shared steps")
        #expect(statistics.promptTokens == requests.reduce(0) { $0 + $1.promptIDs.count })
    }

    /// A request whose stream is cancelled, or whose consumer task is, stops at the next pass: no further step
    /// runs for it, and its slot and cache blocks go to the next request.
    @Test func cancellationFreesTheSlot() async throws {
        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 1, maxModelLength: 128))
        let gate = StepGate()
        let scheduler = BatchScheduler(engine: engine, options: SchedulerOptions(), gate: gate)
        let long = GenerationRequest(promptIDs: prompts[0])  // until the context is full: 121 tokens

        let first = try await scheduler.submit(long, through: gate)
        var iterator = first.makeAsyncIterator()
        guard case let .delta(_, count, _) = await iterator.next() else { Issue.record("no first token"); return }
        #expect(count == 1)
        first.cancel()
        gate.allow(1)  // the next pass drops it before stepping
        var ended = false
        while let update = await iterator.next() { if case .finished = update { ended = true } }
        #expect(!ended, "a cancelled request does not finish")

        let second = try await scheduler.submit(long, through: gate)
        let consumer = Task {
            var iterator = second.makeAsyncIterator()
            while await iterator.next() != nil {}
        }
        consumer.cancel()
        await consumer.value  // the cancelled consumer has told the scheduler
        gate.allow(1)

        gate.open()
        let next = await collect(try await scheduler.submit(GenerationRequest(promptIDs: prompts[1],
                                                                              config: GenerationConfig(maxNewTokens: 4))))
        #expect(next.result?.tokenIDs.count == 4)
        await scheduler.shutdown(gracePeriod: .seconds(5))
        #expect(engine.cacheBlocks.free == engine.cacheBlocks.total)
        let statistics = scheduler.currentStatistics
        #expect(statistics.cancelled == 2 && statistics.finished == 1)
        #expect(statistics.generatedTokens == 1 + 1 + 4, "one token each before the cancellations")
    }

    /// Requests past the queue limit are refused at once; the engine's own checks fail `submit` too.
    @Test func aFullQueueRefusesRequests() async throws {
        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 1, maxModelLength: 128))
        let gate = StepGate()
        let scheduler = BatchScheduler(engine: engine, options: SchedulerOptions(queueLimit: 1), gate: gate)
        let running = try await scheduler.submit(GenerationRequest(promptIDs: prompts[0]), through: gate)
        let waiting = try await scheduler.submit(GenerationRequest(promptIDs: prompts[1]), through: gate)
        #expect(scheduler.currentStatistics.running == 1 && scheduler.currentStatistics.waiting == 1)
        await #expect(throws: GenerationError.queueFull(limit: 1)) {
            _ = try await scheduler.submit(GenerationRequest(promptIDs: prompts[2]))
        }
        running.cancel()
        waiting.cancel()
        gate.open()
        try await scheduler.waitFor { $0.cancelled == 2 }
        await #expect(throws: GenerationError.unknownAdapter(name: "missing", known: [])) {
            _ = try await scheduler.submit(GenerationRequest(promptIDs: prompts[1], adapter: "missing"))
        }
        await #expect(throws: GenerationError.self, "an empty prompt") {
            _ = try await scheduler.submit(GenerationRequest(promptIDs: []))
        }
        await scheduler.shutdown(gracePeriod: .seconds(5))
        #expect(scheduler.currentStatistics.rejected == 1)
        #expect(engine.cacheBlocks.free == engine.cacheBlocks.total)
    }

    /// Shutting down refuses new requests, lets those in flight finish within the grace period, and stops the
    /// rest when it ends.
    @Test func shutdownFinishesOrStopsRequestsInFlight() async throws {
        let engine = try makeEngine(options: EngineOptions(maxBatchSize: 2, maxModelLength: 128))
        let scheduler = BatchScheduler(engine: engine)
        let short = Task { await collect(try await scheduler.submit(
            GenerationRequest(promptIDs: prompts[1], config: GenerationConfig(maxNewTokens: 6)))) }
        try await scheduler.waitFor { $0.running + $0.finished == 1 }
        await scheduler.shutdown(gracePeriod: .seconds(30))
        #expect(try await short.value.result?.tokenIDs.count == 6, "finished within the grace period")
        await #expect(throws: GenerationError.self) { _ = try await scheduler.submit(GenerationRequest(promptIDs: prompts[0])) }

        let gate = StepGate()
        let other = BatchScheduler(engine: try makeEngine(), options: SchedulerOptions(), gate: gate)
        let long = try await other.submit(GenerationRequest(promptIDs: prompts[0]), through: gate)
        other.beginShutdown(gracePeriod: .zero)
        gate.open()
        await other.shutdown(gracePeriod: .zero)
        let stopped = await collect(long)
        #expect(stopped.result == nil && stopped.tokenCount < 128 - prompts[0].count)
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
