import SwiftTuneAdapters
import SwiftTuneModels
import SwiftTuneTensor

/// The work behind the engine's public methods; every method here is called with the engine's lock held.
extension GenerationEngine {
    /// Validates a request and sizes it: prompt (left-truncated if asked), and the tokens it may hold.
    func makeSequence(_ request: GenerationRequest, id: Int) throws -> GenerationSequence {
        try request.config.validate()
        guard !request.promptIDs.isEmpty else { throw GenerationError.invalidPrompt(request: id, reason: "the prompt is empty") }
        let vocabulary = model.config.vocabSize
        if let bad = request.promptIDs.firstIndex(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw GenerationError.invalidPrompt(
                request: id, reason: "token \(bad) has id \(request.promptIDs[bad]), outside the vocabulary 0..<\(vocabulary)")
        }
        if let adapter = request.adapter, adapters[adapter] == nil, activeAdapter != adapter {
            throw GenerationError.unknownAdapter(name: adapter, known: adapters.keys.sorted())
        }
        var prompt = request.promptIDs
        if prompt.count >= maxModelLength {
            switch request.config.truncation {
            case .error:
                throw GenerationError.promptTooLong(
                    request: id, tokens: prompt.count, limit: maxModelLength,
                    hint: "shorten it, raise --max_model_len, or keep its end with --truncation_strategy left")
            case .left:
                let reserve = min(request.config.maxNewTokens ?? maxModelLength / 2, maxModelLength - 1)
                prompt = Array(prompt.suffix(maxModelLength - reserve))
            }
        }
        let budget = min(prompt.count + min(request.config.maxNewTokens ?? maxModelLength, maxModelLength), maxModelLength)
        guard cache.blocksNeeded(forTokens: budget) <= cache.blockCount else {
            throw GenerationError.cacheTooSmall(request: id, tokens: budget, capacity: cache.tokenCapacity)
        }
        return GenerationSequence(id: id, request: request, prompt: prompt, budget: budget, tokenizer: tokenizer)
    }

    /// Takes the blocks `sequence`'s tokens so far need (its prompt; after a preemption its answer too) if the batch
    /// has room and the cache has them free; with prefix caching, the cached blocks of its leading full blocks first
    /// (their tokens count as in the cache). The last token is always computed, for the logits of the next one.
    /// Later blocks are taken as it grows (`growBlocks`).
    func reserveBlocks(_ sequence: GenerationSequence) -> Bool {
        guard sequence.blocks.isEmpty else { return true }
        guard admittedCount < maxBatchSize else { return false }
        let size = cache.blockSize
        var shared: [Int32] = []
        if prefixCaching {
            let full = (sequence.tokens.count - 1) / size
            shared = cache.takeCachedPrefix((0..<full).map { Array(sequence.tokens[($0 * size)..<(($0 + 1) * size)]) },
                                            adapter: sequence.request.adapter)
        }
        guard let rest = cache.allocateBlocks(cache.blocksNeeded(forTokens: sequence.tokens.count) - shared.count) else {
            cache.release(shared)
            return false
        }
        sequence.blocks = shared + rest
        sequence.cachedLength = shared.count * size
        sequence.registeredBlocks = shared.count
        sequence.prefixBlock = shared.last
        if sequence.preemptions == 0 {
            prefixCounts.promptTokens += sequence.promptCount
            prefixCounts.cachedTokens += min(shared.count * size, sequence.promptCount)
        }
        admittedCount += 1
        admissions += 1
        sequence.admittedAt = admissions
        return true
    }

    /// Tokens `sequence` feeds in its next step: its next prompt chunk, or its last token.
    func nextChunk(_ sequence: GenerationSequence) -> Int {
        min(sequence.tokens.count - sequence.cachedLength, prefillChunk)
    }

    /// Gives each sequence of `group` the blocks its next chunk needs, oldest admission first. When the pool runs
    /// out, the newest sequence of the group is preempted (its blocks go back; it is recomputed when admitted again,
    /// vLLM's recompute preemption) until the rest fit. Returns the sequences that step, in `group`'s order.
    func growBlocks(_ group: [GenerationSequence]) -> [GenerationSequence] {
        var running = group.sorted { $0.admittedAt < $1.admittedAt }
        var index = 0
        while index < running.count {
            let sequence = running[index]
            let missing = cache.blocksNeeded(forTokens: sequence.cachedLength + nextChunk(sequence)) - sequence.blocks.count
            if missing <= 0 {
                index += 1
            } else if let blocks = cache.allocateBlocks(missing) {
                sequence.blocks += blocks
                index += 1
            } else {
                preempt(running.removeLast())  // the newest; when that is `sequence` itself, the loop ends
            }
        }
        let kept = Set(running.map(\.id))
        return group.filter { kept.contains($0.id) }
    }

    /// Takes `sequence`'s blocks back before it ends (the cache is full); it keeps its tokens.
    func preempt(_ sequence: GenerationSequence) {
        cache.release(sequence.blocks)
        sequence.preempted()
        admittedCount -= 1
        preemptionCount += 1
    }

    /// Registers the full blocks `sequence` has computed since the last step, so later requests can share them.
    func registerComputedBlocks(_ sequence: GenerationSequence) {
        let size = cache.blockSize
        while sequence.registeredBlocks < sequence.cachedLength / size, sequence.canRegister {
            let index = sequence.registeredBlocks
            let tokens = Array(sequence.tokens[(index * size)..<((index + 1) * size)])
            guard let block = cache.register(sequence.blocks[index], tokens: tokens, after: sequence.prefixBlock,
                                             adapter: sequence.request.adapter) else {
                sequence.canRegister = false  // the prefix before it was evicted
                return
            }
            sequence.prefixBlock = block
            sequence.registeredBlocks += 1
        }
    }

    /// Gives `sequence`'s blocks back.
    func returnBlocks(_ sequence: GenerationSequence) {
        guard !sequence.blocks.isEmpty else { return }
        cache.release(sequence.blocks)
        sequence.blocks = []
        admittedCount -= 1
    }

    /// One forward pass for `group`, then a token for every sequence whose prompt is all in the cache.
    func runStep(_ group: [GenerationSequence], onDelta: (Int, String) throws -> Void) throws -> Int {
        guard let first = group.first else {
            throw GenerationError.invalidStep(reason: "no sequences", hint: "step at least one admitted sequence")
        }
        let adapter = first.request.adapter
        if let bad = group.first(where: { $0.blocks.isEmpty || $0.result != nil || $0.request.adapter != adapter }) {
            let reason = bad.blocks.isEmpty ? "holds no cache blocks" : bad.result != nil ? "has finished"
                : "names adapter \(bad.request.adapter ?? "none"), the others \(adapter ?? "none")"
            throw GenerationError.invalidStep(reason: "sequence \(bad.id) \(reason)",
                                              hint: "admit sequences first, release finished ones, step one adapter at a time")
        }
        try activate(adapter)
        let group = growBlocks(group)
        guard !group.isEmpty else { return 0 }  // every one was preempted: the cache is held by other adapters' requests
        let entries = group.map { sequence in
            let count = nextChunk(sequence)
            return KVCacheBatch.Entry(tokens: Array(sequence.tokens[sequence.cachedLength..<(sequence.cachedLength + count)]),
                                      cachedLength: sequence.cachedLength, blocks: sequence.blocks)
        }
        let batch = try KVCacheBatch(entries: entries, blockSize: cache.blockSize).upload(to: model.backend)
        let logits = try model.cachedLogits(batch, cache: cache.storage)  // (S, V), stays on the device
        var promptTokens = 0
        for (row, sequence) in group.enumerated() {
            promptTokens += max(0, min(sequence.cachedLength + entries[row].tokens.count, sequence.promptCount) - sequence.cachedLength)
            sequence.cachedLength += entries[row].tokens.count
            if prefixCaching { registerComputedBlocks(sequence) }
        }
        let choices = try StepSampler.choose(logits: logits, sequences: group, backend: model.backend)
        for (sequence, choice) in zip(group, choices) {
            guard let choice else { continue }  // still prefilling
            let delta = sequence.accept(choice, tokenizer: tokenizer)
            if !delta.isEmpty { try onDelta(sequence.id, delta) }
        }
        return promptTokens
    }

    // MARK: Adapters

    /// Attaches registered adapter `name` (nil: the model's own), detaching the one attached now.
    func activate(_ name: String?) throws {
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
    func detachOwn() throws -> LoRASet? {
        guard model.loraConfiguration != nil else { return nil }
        if model.loraModules.contains(where: \.isMerged) {
            model.removeLoRA()
            return nil
        }
        return try model.detachLoRA()
    }
}
