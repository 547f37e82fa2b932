import Foundation
import SwiftTuneAdapters
import SwiftTuneModels
import SwiftTuneTensor
import SwiftTuneTokenizers

/// Generation with a paged KV cache: batched requests of different lengths step together (prefill and decode in
/// one forward pass), tokens are picked on the host from the logits of each sequence's last token, text streams
/// out as it is decoded.
///
/// Requests join as others finish (up to `maxBatchSize` at once), each holding cache blocks for its prompt plus
/// its answer budget. Requests may name different LoRA adapters (`registerAdapter`): the engine steps the
/// requests of one adapter together and alternates between adapter groups, swapping the unmerged adapters on
/// the shared base model. One `generate` runs at a time (calls are serialised).
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
    /// Sequences stepped together at most.
    public let maxBatchSize: Int
    /// Tokens per sequence at most (prompt and answer).
    public let maxModelLength: Int
    public let prefillChunk: Int
    public let cache: KVCache

    /// Registered adapters by name, while not attached.
    private var adapters: [String: LoRASet] = [:]
    /// The registered adapter attached now; nil: the model's own (its adapter, if any, attached).
    private var activeAdapter: String?
    /// The model's own unmerged adapter while a registered one is attached instead.
    private var ownAdapter: LoRASet?
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
        let tokens = options.cacheTokens ?? options.maxBatchSize * context
        cache = try model.makeKVCache(blockCount: max(1, (tokens + options.blockSize - 1) / options.blockSize),
                                      blockSize: options.blockSize)
    }

    /// The registered adapters' names, sorted.
    public var adapterNames: [String] {
        lock.withLock { adapters.keys.sorted() }
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
            let prepared = try requests.enumerated().map { try prepare($0.element, index: $0.offset) }
            var results = [GenerationResult?](repeating: nil, count: requests.count)
            var active: [ActiveSequence] = []
            var next = 0, turn = 0
            defer {
                for sequence in active { cache.release(sequence.blocks) }
                try? activate(nil)
            }
            while next < prepared.count || !active.isEmpty {
                // Admit waiting requests while there is room in the batch and in the cache.
                while active.count < maxBatchSize, next < prepared.count {
                    let sequence = prepared[next]
                    let blocks = cache.blocksNeeded(forTokens: sequence.budget)
                    guard blocks <= cache.freeBlockCount else { break }
                    sequence.blocks = try cache.allocateBlocks(blocks)
                    active.append(sequence)
                    next += 1
                }
                guard !active.isEmpty else {  // cannot happen: prepare() checked that each request fits the empty cache
                    throw GenerationError.cacheTooSmall(request: next, tokens: prepared[next].budget,
                                                        capacity: cache.tokenCapacity)
                }
                // One adapter group per step, taking turns.
                var groups: [String?] = []
                for sequence in active where !groups.contains(sequence.request.adapter) {
                    groups.append(sequence.request.adapter)
                }
                let adapter = groups[turn % groups.count]
                turn += 1
                try activate(adapter)
                let group = active.filter { $0.request.adapter == adapter }
                try step(group, onEvent: onEvent)
                for sequence in group {
                    guard let result = sequence.result else { continue }
                    cache.release(sequence.blocks)
                    sequence.blocks = []
                    results[sequence.index] = result
                    try onEvent(.finished(request: sequence.index, result: result))
                }
                active.removeAll { $0.result != nil }
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

    // MARK: Steps

    /// One forward pass for `group` (each sequence feeds its next prompt chunk or its last token), then a token
    /// for every sequence whose prompt is all in the cache.
    private func step(_ group: [ActiveSequence], onEvent: (GenerationEvent) throws -> Void) throws {
        let entries = group.map { sequence in
            let count = min(sequence.tokens.count - sequence.cachedLength, prefillChunk)
            return KVCacheBatch.Entry(tokens: Array(sequence.tokens[sequence.cachedLength..<(sequence.cachedLength + count)]),
                                      cachedLength: sequence.cachedLength, blocks: sequence.blocks)
        }
        let batch = try KVCacheBatch(entries: entries, blockSize: cache.blockSize).upload(to: model.backend)
        let logits = try model.backend.floats(model.cachedLogits(batch, cache: cache))  // (S, V) on the host
        let vocabulary = model.config.vocabSize
        for (row, sequence) in group.enumerated() {
            sequence.cachedLength += entries[row].tokens.count
            guard sequence.cachedLength == sequence.tokens.count else { continue }  // still prefilling
            let choice = logits.withUnsafeBufferPointer { all in
                TokenSampler.choose(UnsafeBufferPointer(rebasing: all[(row * vocabulary)..<((row + 1) * vocabulary)]),
                                    history: sequence.tokens, config: sequence.request.config,
                                    generator: &sequence.generator)
            }
            if let delta = sequence.accept(choice, tokenizer: tokenizer), !delta.isEmpty {
                try onEvent(.delta(request: sequence.index, text: delta))
            }
        }
    }

    /// Validates a request and sizes it: prompt (left-truncated if asked), and the tokens it may hold.
    private func prepare(_ request: GenerationRequest, index: Int) throws -> ActiveSequence {
        try request.config.validate()
        guard !request.promptIDs.isEmpty else { throw GenerationError.invalidPrompt(request: index, reason: "the prompt is empty") }
        let vocabulary = model.config.vocabSize
        if let bad = request.promptIDs.firstIndex(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw GenerationError.invalidPrompt(
                request: index, reason: "token \(bad) has id \(request.promptIDs[bad]), outside the vocabulary 0..<\(vocabulary)")
        }
        if let adapter = request.adapter, adapters[adapter] == nil, activeAdapter != adapter {
            throw GenerationError.unknownAdapter(name: adapter, known: adapters.keys.sorted())
        }
        var prompt = request.promptIDs
        if prompt.count >= maxModelLength {
            switch request.config.truncation {
            case .error:
                throw GenerationError.promptTooLong(
                    request: index, tokens: prompt.count, limit: maxModelLength,
                    hint: "shorten it, raise --max_model_len, or keep its end with --truncation_strategy left")
            case .left:
                let reserve = min(request.config.maxNewTokens ?? maxModelLength / 2, maxModelLength - 1)
                prompt = Array(prompt.suffix(maxModelLength - reserve))
            }
        }
        let budget = min(prompt.count + min(request.config.maxNewTokens ?? maxModelLength, maxModelLength), maxModelLength)
        guard cache.blocksNeeded(forTokens: budget) <= cache.blockCount else {
            throw GenerationError.cacheTooSmall(request: index, tokens: budget, capacity: cache.tokenCapacity)
        }
        return ActiveSequence(index: index, request: request, prompt: prompt, budget: budget, tokenizer: tokenizer)
    }

    // MARK: Adapters

    /// Attaches registered adapter `name` (nil: the model's own), detaching the one attached now.
    private func activate(_ name: String?) throws {
        guard name != activeAdapter else { return }
        if let current = activeAdapter {
            adapters[current] = try model.detachLoRA()
        } else {
            ownAdapter = try detachOwn()
        }
        if let name {
            guard let set = adapters[name] else { throw GenerationError.unknownAdapter(name: name, known: adapters.keys.sorted()) }
            try model.attachLoRA(set)
            adapters[name] = nil
        } else if let own = ownAdapter {
            try model.attachLoRA(own)
            ownAdapter = nil
        }
        activeAdapter = name
    }

    /// Takes the model's own adapter off: unmerged ones are returned, merged ones are dropped (their weights stay in
    /// the base, which is what every request without a registered adapter then runs).
    private func detachOwn() throws -> LoRASet? {
        guard model.loraConfiguration != nil else { return nil }
        if model.loraModules.contains(where: \.isMerged) {
            model.removeLoRA()
            return nil
        }
        return try model.detachLoRA()
    }
}
