import Foundation

/// Continuous batching over a `GenerationEngine`: requests arrive at any time from any thread or task, join the
/// running batch between two decode steps and leave it as soon as they end, each streaming its tokens back.
///
/// One thread drives the engine through its step-wise surface (model compute is synchronous) and loops: take new
/// requests (`engine.prepare`, so a bad one fails its `submit` at once), drop cancelled ones (`engine.release`),
/// fill the batch from the queue while the engine admits them (`engine.admit`: up to `maxBatchSize`, and the KV
/// cache's free blocks for their prompts), then run one `engine.step` for one adapter group (groups take turns, as in
/// `GenerationEngine.generate`). Requests waiting for a place are bounded by `SchedulerOptions.queueLimit`;
/// past it `submit` throws `GenerationError.queueFull`. A request stops when its consumer stops listening (the
/// stream is cancelled or dropped): its cache blocks go back to the pool at the next step. A request the step
/// preempted (the cache ran out as answers grew) goes back to the head of the queue and resumes where it stopped
/// once admitted again; its stream only sees a pause.
///
/// With greedy decoding (or a fixed seed) a request gets the same tokens whether it runs alone or joins a batch
/// mid-run: every sequence has its own cache blocks and sampler.
///
/// ```swift
/// let scheduler = BatchScheduler(engine: engine, options: SchedulerOptions(queueLimit: 64))
/// let stream = try await scheduler.submit(GenerationRequest(promptIDs: ids, config: GenerationConfig(maxNewTokens: 32)))
/// for await update in stream { if case let .delta(text, _, _) = update { print(text, terminator: "") } }
/// await scheduler.shutdown(gracePeriod: .seconds(10))
/// ```
///
/// The scheduler drives the engine from `init` on: do not call `engine.generate` or `registerAdapter` meanwhile.
public final class BatchScheduler: @unchecked Sendable {
    public let engine: GenerationEngine
    public let options: SchedulerOptions
    /// The engine's registered adapters when the scheduler started.
    public let adapterNames: [String]
    /// Tests only: passed before each pass of the loop.
    let gate: StepGate?

    /// Guards everything below it up to `// Scheduler thread only`; the thread sleeps on it when idle.
    private let condition = NSCondition()
    private var incoming: [Submission] = []
    private var cancelled: Set<Int> = []
    private var phase = Phase.running
    private var nextID = 0
    private var statistics = SchedulerStatistics()
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []

    // Scheduler thread only.
    private var waiting: [Job] = []
    private var active: [Job] = []
    private var turns = AdapterTurns()

    private enum Phase {
        case running
        /// Not taking requests; those in flight run until `deadline`, then are stopped.
        case draining(deadline: ContinuousClock.Instant)
        case stopped
    }

    /// A request handed to `submit`, waiting for the thread to validate it.
    private struct Submission {
        let id: Int
        let request: GenerationRequest
        let accept: CheckedContinuation<GenerationStream, any Error>
    }

    /// A request the thread has accepted: its sequence and where its updates go.
    private final class Job {
        let sequence: GenerationSequence
        let continuation: AsyncStream<GenerationUpdate>.Continuation
        /// Tokens and log-probabilities already reported.
        var reportedTokens: Int
        var reportedLogprobs = 0

        init(sequence: GenerationSequence, continuation: AsyncStream<GenerationUpdate>.Continuation) {
            self.sequence = sequence
            self.continuation = continuation
            reportedTokens = sequence.promptCount
        }

        var id: Int { sequence.id }
    }

    /// Starts the scheduler thread over `engine`.
    public convenience init(engine: GenerationEngine, options: SchedulerOptions = SchedulerOptions()) {
        self.init(engine: engine, options: options, gate: nil)
    }

    /// `gate`: tests hold the loop with it.
    init(engine: GenerationEngine, options: SchedulerOptions, gate: StepGate?) {
        self.engine = engine
        self.options = options
        self.gate = gate
        adapterNames = engine.adapterNames
        let thread = Thread { [self] in loop() }
        thread.name = "swift-tune generation scheduler"
        thread.start()
    }

    // MARK: Submitting

    /// Queues `request` and returns its stream of updates once the engine has accepted it. Throws
    /// `GenerationError.queueFull` when `queueLimit` requests already wait, `.shuttingDown` after `shutdown`, and
    /// the engine's own errors for a request it refuses (a bad setting, a prompt too long, an unknown adapter).
    public func submit(_ request: GenerationRequest) async throws -> GenerationStream {
        try await withCheckedThrowingContinuation { (accept: CheckedContinuation<GenerationStream, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            guard case .running = phase else {
                statistics.rejected += 1
                accept.resume(throwing: GenerationError.shuttingDown(reason: "it takes no new requests"))
                return
            }
            guard incoming.count + statistics.waiting < options.queueLimit else {
                statistics.rejected += 1
                accept.resume(throwing: GenerationError.queueFull(limit: options.queueLimit))
                return
            }
            incoming.append(Submission(id: nextID, request: request, accept: accept))
            nextID += 1
            condition.signal()
        }
    }

    /// Stops request `id` (a `GenerationStream.id`); its blocks are freed at the next step. Its stream ends
    /// without a `.finished` update.
    public func cancel(_ id: Int) {
        condition.lock()
        cancelled.insert(id)
        condition.signal()
        condition.unlock()
    }

    /// Counters since the start, and the batch and queue now.
    public var currentStatistics: SchedulerStatistics {
        condition.lock()
        defer { condition.unlock() }
        return statistics
    }

    /// Submissions the thread has not taken in yet (tests wait for one before opening their gate).
    var incomingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return incoming.count
    }

    /// Whether `submit` takes requests (false once shutting down).
    public var isAccepting: Bool {
        condition.lock()
        defer { condition.unlock() }
        if case .running = phase { return true }
        return false
    }

    // MARK: Shutting down

    /// Stops taking requests; those in flight (running or queued) may finish within `gracePeriod`, then the rest
    /// are stopped, their streams ending with `.failed(GenerationError.shuttingDown)`. Returns at once.
    public func beginShutdown(gracePeriod: Duration) {
        condition.lock()
        if case .running = phase { phase = .draining(deadline: .now + gracePeriod) }
        condition.signal()
        condition.unlock()
    }

    /// `beginShutdown`, then waits until every request has ended and the thread has stopped.
    public func shutdown(gracePeriod: Duration) async {
        beginShutdown(gracePeriod: gracePeriod)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            condition.lock()
            defer { condition.unlock() }
            if case .stopped = phase { done.resume() } else { stopWaiters.append(done) }
        }
    }

    // MARK: The scheduler thread

    private func loop() {
        while true {
            condition.lock()
            while incoming.isEmpty, cancelled.isEmpty, waiting.isEmpty, active.isEmpty, case .running = phase {
                condition.wait()
            }
            if let gate {
                condition.unlock()
                gate.pass()
                condition.lock()
            }
            let submissions = incoming, cancelledIDs = cancelled
            incoming = []
            cancelled = []
            var deadlinePassed = false
            var stopping = false
            if case let .draining(deadline) = phase {
                stopping = true
                deadlinePassed = ContinuousClock.now >= deadline
            }
            condition.unlock()

            var counts = StepCounts()
            let accepted = accept(submissions)
            drop(cancelledIDs, counts: &counts)
            if deadlinePassed { stopAll(counts: &counts) }
            fillBatch()
            // The queue's length is known before `submit` returns, so the limit holds exactly.
            condition.lock()
            statistics.running = active.count
            statistics.waiting = waiting.count
            condition.unlock()
            for (submission, stream) in accepted { submission.accept.resume(returning: stream) }
            if !active.isEmpty { step(counts: &counts) }
            if stopping, active.isEmpty, waiting.isEmpty { try? engine.restoreModelAdapter() }

            condition.lock()
            statistics.add(counts)
            statistics.running = active.count
            statistics.waiting = waiting.count
            let finished = stopping && active.isEmpty && waiting.isEmpty && incoming.isEmpty
            var waiters: [CheckedContinuation<Void, Never>] = []
            if finished {
                phase = .stopped
                waiters = stopWaiters
                stopWaiters = []
            }
            condition.unlock()
            if finished {
                for waiter in waiters { waiter.resume() }
                return
            }
        }
    }

    /// Validates new requests with the engine: refused ones fail their `submit`, accepted ones queue up and are
    /// returned with their stream (for `submit` to return once the queue's length is recorded).
    private func accept(_ submissions: [Submission]) -> [(Submission, GenerationStream)] {
        var accepted: [(Submission, GenerationStream)] = []
        for submission in submissions {
            let sequence: GenerationSequence
            do {
                sequence = try engine.prepare(submission.request, id: submission.id)
            } catch {
                submission.accept.resume(throwing: error)
                continue
            }
            let (stream, continuation) = AsyncStream<GenerationUpdate>.makeStream()
            let id = submission.id
            continuation.onTermination = { [weak self] termination in
                if case .cancelled = termination { self?.cancel(id) }
            }
            waiting.append(Job(sequence: sequence, continuation: continuation))
            accepted.append((submission, GenerationStream(id: id, promptTokenCount: sequence.promptCount, updates: stream,
                                                          scheduler: self)))
        }
        return accepted
    }

    /// Removes cancelled requests, running or queued, and frees their blocks.
    private func drop(_ ids: Set<Int>, counts: inout StepCounts) {
        guard !ids.isEmpty else { return }
        for job in active + waiting where ids.contains(job.id) {
            release(job)
            job.continuation.finish()
            counts.cancelled += 1
        }
        active.removeAll { ids.contains($0.id) }
        waiting.removeAll { ids.contains($0.id) }
    }

    /// Ends every request at the end of the grace period.
    private func stopAll(counts: inout StepCounts) {
        for job in active + waiting {
            release(job)
            job.continuation.yield(.failed(GenerationError.shuttingDown(reason: "the request was stopped")))
            job.continuation.finish()
            counts.cancelled += 1
        }
        active = []
        waiting = []
    }

    /// Moves queued requests into the batch, oldest first, while the engine admits them (room in the batch and in
    /// the cache).
    private func fillBatch() {
        while let job = waiting.first, engine.admit(job.sequence) {
            active.append(job)
            waiting.removeFirst()
        }
    }

    /// One engine step for the next adapter group, then each request's update.
    private func step(counts: inout StepCounts) {
        let adapter = turns.next(active.map(\.sequence))
        let group = active.filter { $0.sequence.request.adapter == adapter }
        var deltas: [Int: String] = [:]
        let prefilled: Int  // prompt tokens this step put into the cache
        do {
            prefilled = try engine.step(group.map(\.sequence)) { id, text in deltas[id, default: ""] += text }
        } catch {
            for job in group {
                release(job)
                job.continuation.yield(.failed(error))
                job.continuation.finish()
                counts.failed += 1
            }
            let failed = Set(group.map(\.id))
            active.removeAll { failed.contains($0.id) }
            return
        }
        counts.steps += 1
        for job in group {
            let sequence = job.sequence
            let newTokens = sequence.tokens.count - job.reportedTokens
            counts.generatedTokens += newTokens
            let logprobs = Array(sequence.logprobs[job.reportedLogprobs...])
            let text = deltas[job.id] ?? ""
            if newTokens > 0 || !text.isEmpty {
                job.continuation.yield(.delta(text: text, tokenCount: newTokens, logprobs: logprobs))
            }
            job.reportedTokens = sequence.tokens.count
            job.reportedLogprobs = sequence.logprobs.count
            if let result = sequence.result {
                release(job)
                job.continuation.yield(.finished(result))
                job.continuation.finish()
                counts.finished += 1
            }
        }
        counts.promptTokens += prefilled
        let preempted = active.filter { $0.sequence.isPreempted }
        counts.preempted += preempted.count
        waiting.insert(contentsOf: preempted.sorted { $0.sequence.admittedAt < $1.sequence.admittedAt }, at: 0)
        active.removeAll { $0.sequence.result != nil || $0.sequence.isPreempted }
    }

    private func release(_ job: Job) {
        engine.release(job.sequence)
    }
}
