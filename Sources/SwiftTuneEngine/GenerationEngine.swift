import Foundation
import SwiftTuneAdapters
import SwiftTuneModels
import SwiftTuneTensor
import SwiftTuneTokenizers

/// Generation with a paged KV cache: batched requests of different lengths step together (prefill and decode in
/// one forward pass), each sequence's next token is picked on the device (`Backend.sample`; requests that ask for
/// top log-probabilities on the host), text streams out as it is decoded.
///
/// Requests join as others finish (up to `maxBatchSize` at once) and when the cache has the blocks for their prompt;
/// each takes more blocks as its answer grows. When the cache runs out mid-answer the newest request of the step is
/// preempted: its blocks go back, it waits at the head of the queue and, admitted again, recomputes its keys and
/// values (vLLM's recompute preemption), with the same tokens as if it had never stopped. Requests may name
/// different LoRA adapters (`registerAdapter`): the engine steps the requests of one adapter together and
/// alternates between adapter groups, swapping the unmerged adapters on the shared base model.
///
/// Two ways in, both thread-safe (the engine holds its own lock): `generate` runs a list of requests to their end
/// (one `generate` at a time), and the step-wise surface a scheduler drives: `prepare` a request, `admit` it
/// (it takes its cache blocks), `step` a group of admitted sequences, `release` it (its blocks go back). Do not mix
/// the two at once on one engine.
///
/// ```swift
/// let engine = try GenerationEngine(model: model, tokenizer: tokenizer, options: EngineOptions(maxBatchSize: 8))
/// let results = try engine.generate([GenerationRequest(promptIDs: ids, config: GenerationConfig(maxNewTokens: 64))]) {
///     if case let .delta(_, text) = $0 { print(text, terminator: "") }
/// }
/// ```
public final class GenerationEngine: @unchecked Sendable {
    public let model: DecoderModel
    public let tokenizer: Tokenizer
    /// Sequences stepped together at most (sequences admitted at once).
    public let maxBatchSize: Int
    /// Tokens per sequence at most (prompt and answer).
    public let maxModelLength: Int
    public let prefillChunk: Int
    /// Whether full prompt blocks are shared between requests (`EngineOptions.prefixCaching`).
    public let prefixCaching: Bool

    /// The KV cache's block pool. Everything below is touched with `lock` held only.
    let cache: KVCache
    /// Sequences holding cache blocks now; admissions since the start (each sequence's stamp).
    var admittedCount = 0
    var admissions = 0
    /// Sequences preempted since the start.
    var preemptionCount = 0
    /// Registered adapters by name, while not attached.
    var adapters: [String: LoRASet] = [:]
    /// The registered adapter attached now; nil: the model's own (its adapter, if any, attached).
    var activeAdapter: String?
    /// The model's own unmerged adapter while a registered one is attached instead.
    var ownAdapter: LoRASet?
    /// Prefix caching's counters: prompt tokens admitted, and how many of them came from the cache.
    var prefixCounts = (promptTokens: 0, cachedTokens: 0)
    /// Held by every public method for its whole run.
    private let lock = NSLock()

    public init(model: DecoderModel, tokenizer: Tokenizer, options: EngineOptions = EngineOptions()) throws {
        let context = options.maxModelLength ?? model.config.maxPositionEmbeddings
        guard options.maxBatchSize >= 1 else {
            throw GenerationError.invalidSetting(flag: "max_batch_size", value: "\(options.maxBatchSize)",
                                                 expected: "a positive integer")
        }
        guard context >= 2 else {
            throw GenerationError.invalidSetting(flag: "max_model_len", value: "\(context)", expected: "at least 2 tokens")
        }
        guard options.blockSize >= 1, options.prefillChunk >= 1 else {
            throw GenerationError.invalidSetting(flag: "block_size / prefill_chunk",
                                                 value: "\(options.blockSize) / \(options.prefillChunk)",
                                                 expected: "positive integers")
        }
        self.model = model
        self.tokenizer = tokenizer
        maxBatchSize = options.maxBatchSize
        maxModelLength = context
        prefillChunk = options.prefillChunk
        prefixCaching = options.prefixCaching
        let tokens = options.cacheTokens ?? options.maxBatchSize * context
        cache = KVCache(storage: try model.makeKVCacheStorage(
            blockCount: max(1, (tokens + options.blockSize - 1) / options.blockSize), blockSize: options.blockSize))
    }

    /// Prompt tokens of the admitted requests, and how many of them were found in the prefix cache (not computed).
    public var prefixCacheCounts: (promptTokens: Int, cachedTokens: Int) {
        lock.withLock { prefixCounts }
    }

    /// Forgets every cached prefix: after the model's weights changed (a training step), their keys and values are
    /// stale. Blocks held by running sequences stay theirs.
    public func clearPrefixCache() {
        lock.withLock { cache.clearCachedPrefixes() }
    }

    /// The registered adapters' names, sorted.
    public var adapterNames: [String] {
        lock.withLock { adapters.keys.sorted() }
    }

    /// Times a full cache preempted a sequence since the engine started (each is recomputed, not lost).
    public var preemptions: Int {
        lock.withLock { preemptionCount }
    }

    /// Blocks in the KV cache, and how many no sequence holds now.
    public var cacheBlocks: (total: Int, free: Int) {
        lock.withLock { (cache.blockCount, cache.freeBlockCount) }
    }

    /// Loads the PEFT adapter in `directory` (key and shape checks as `LoRAAdapter.load`) and registers it as
    /// `name`, for requests that ask for it. Adapters with `modules_to_save` replace base weights and cannot share
    /// the model: serve such an adapter alone (attached before the engine is made) or merged.
    public func registerAdapter(name: String, directory: URL) throws {
        try lock.withLock {
            guard !name.isEmpty, adapters[name] == nil else {
                throw GenerationError.invalidSetting(flag: "adapters", value: name, expected: "a new, non-empty name")
            }
            let config = try LoRAAdapter.loadConfig(from: directory)
            guard config.lora.modulesToSave.isEmpty else {
                throw GenerationError.unsupportedAdapter(
                    path: directory.path, reason: "it trains \(config.lora.modulesToSave) in full (modules_to_save)",
                    hint: "use it as the only adapter, or merge it (--merge_lora true)")
            }
            try activate(nil)
            let own = try detachOwn()
            defer { if let own { try? model.attachLoRA(own) } }
            try LoRAAdapter.load(from: directory, into: model)
            adapters[name] = try model.detachLoRA()
        }
    }

    // MARK: Generating

    /// Runs every request to its end and returns the results in request order. `onEvent` sees each text delta
    /// and each finished request as it happens (to stream, or to show progress); an error it throws stops the run.
    public func generate(_ requests: [GenerationRequest],
                         onEvent: (GenerationEvent) throws -> Void = { _ in }) throws -> [GenerationResult] {
        try lock.withLock {
            let prepared = try requests.enumerated().map { try makeSequence($0.element, id: $0.offset) }
            var results = [GenerationResult?](repeating: nil, count: requests.count)
            var active: [GenerationSequence] = [], waiting = prepared[...], turns = AdapterTurns()
            defer {
                for sequence in active { returnBlocks(sequence) }
                try? activate(nil)
            }
            while !waiting.isEmpty || !active.isEmpty {
                // Admit waiting requests (preempted ones first) while there is room in the batch and in the cache.
                while let sequence = waiting.first, reserveBlocks(sequence) {
                    active.append(sequence)
                    waiting.removeFirst()
                }
                guard !active.isEmpty else {  // cannot happen: makeSequence checked that each fits the empty cache
                    throw GenerationError.cacheTooSmall(request: waiting.first?.id ?? 0, tokens: waiting.first?.budget ?? 0,
                                                        capacity: cache.tokenCapacity)
                }
                let adapter = turns.next(active)
                let group = active.filter { $0.request.adapter == adapter }
                try runStep(group) { try onEvent(.delta(request: $0, text: $1)) }
                for sequence in group {
                    guard let result = sequence.result else { continue }
                    returnBlocks(sequence)
                    results[sequence.id] = result
                    try onEvent(.finished(request: sequence.id, result: result))
                }
                let preempted = active.filter(\.isPreempted)
                waiting.insert(contentsOf: preempted.sorted { $0.admittedAt < $1.admittedAt }, at: waiting.startIndex)
                active.removeAll { $0.result != nil || $0.isPreempted }
            }
            return results.compactMap { $0 }
        }
    }

    /// The answer to one request as an `AsyncSequence` of text deltas (generation runs on a detached task;
    /// cancelling the consumer stops it at the next token).
    public func stream(_ request: GenerationRequest) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task.detached { [self] in
                do {
                    _ = try self.generate([request]) { event in
                        try Task.checkCancellation()
                        if case let .delta(_, text) = event { continuation.yield(text) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Step by step (a scheduler's surface)

    /// Validates `request` and sizes it (prompt left-truncated if asked, the tokens it may hold): the sequence a
    /// scheduler queues, holding no cache blocks yet. `id` is the caller's, reported back in `step`'s deltas.
    /// Throws what the engine refuses: a bad setting, an empty or out-of-vocabulary prompt, a prompt too long, a
    /// budget larger than the whole cache, an unknown adapter.
    public func prepare(_ request: GenerationRequest, id: Int) throws -> GenerationSequence {
        try lock.withLock { try makeSequence(request, id: id) }
    }

    /// Gives `sequence` the cache blocks of its tokens so far when fewer than `maxBatchSize` sequences hold blocks
    /// and enough are free; false (nothing taken) otherwise: admit it after others are released. True at once for a
    /// sequence already admitted. A preempted sequence is admitted the same way.
    public func admit(_ sequence: GenerationSequence) -> Bool {
        lock.withLock { reserveBlocks(sequence) }
    }

    /// One forward pass for `sequences` (admitted, unfinished, all with the same adapter, which the engine
    /// attaches): each feeds its next prompt chunk (at most `prefillChunk` tokens) or its last token, and every
    /// sequence whose prompt is all in the cache gets its next token (`tokens`, `logprobs`, and `result` when its
    /// answer ends). `onDelta` receives `(id, text)` for the new text of each sequence that has some. Returns the
    /// prompt tokens this step put into the cache. A sequence that ends keeps its blocks until `release`. Each
    /// sequence first takes the blocks its chunk needs; when the cache has too few, the newest are preempted
    /// (`isPreempted`: they hold no blocks and did not step; queue them to `admit` again).
    @discardableResult
    public func step(_ sequences: [GenerationSequence],
                     onDelta: (_ id: Int, _ text: String) throws -> Void = { _, _ in }) throws -> Int {
        try lock.withLock { try runStep(sequences, onDelta: onDelta) }
    }

    /// Returns `sequence`'s cache blocks to the pool (nothing when it holds none): when it ends, is cancelled or
    /// is dropped.
    public func release(_ sequence: GenerationSequence) {
        lock.withLock { returnBlocks(sequence) }
    }

    /// Leaves the model as it was handed to the engine (its own adapter attached, no registered one): after the
    /// last step of a scheduler.
    public func restoreModelAdapter() throws {
        try lock.withLock { try activate(nil) }
    }
}
