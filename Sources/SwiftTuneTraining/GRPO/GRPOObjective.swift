import Foundation
import SwiftTuneChat
import SwiftTuneEngine
import SwiftTuneJSON
import SwiftTuneModels
import SwiftTuneTensor
import SwiftTuneTokenizers

/// One GRPO prompt: its ids as the template renders it for generation, its text for the rewards, the row's columns
/// and where the row is.
public struct GRPOPrompt: Sendable {
    public var promptIDs: [Int32]
    public var text: String
    public var fields: [JSONMember]
    public var location: String
    /// The rendered conversation (the rewards that score a whole conversation read it).
    public var conversation: Conversation?

    public init(promptIDs: [Int32], text: String, fields: [JSONMember] = [], location: String = "-",
                conversation: Conversation? = nil) {
        self.promptIDs = promptIDs
        self.text = text
        self.fields = fields
        self.location = location
        self.conversation = conversation
    }
}

/// How GRPO samples and scores (ms-swift's flags and defaults; the loss's are in `loss`).
public struct GRPOOptions: Sendable {
    public var loss = GRPOLossOptions()
    /// `--num_generations` (G): completions per prompt.
    public var numGenerations = 8
    /// `--max_completion_length`: new tokens per completion at most.
    public var maxCompletionLength = 512
    public var temperature = 0.9
    public var topP = 1.0
    public var topK = 50
    public var repetitionPenalty = 1.0
    public var scaleRewards: RewardScaling = .group
    /// `--reward_weights`: one per reward function (nil: 1 each).
    public var rewardWeights: [Double]?
    /// `--overlong_filter`: completions cut by the length budget carry no loss.
    public var overlongFilter = false
    /// `--num_iterations` (μ): optimizer steps on each generation batch; the sampling policy's log-probabilities
    /// are kept for the ratio.
    public var numIterations = 1
    /// `--dynamic_sample` (DAPO): groups whose rewards are all equal are replaced by fresh samples of other prompts
    /// of the batch, up to `maxResampleTimes` rounds.
    public var dynamicSample = false
    public var maxResampleTimes = 3
    /// `--log_completions`: every completion with its rewards and advantage goes to `completions.jsonl`.
    public var logCompletions = false
    /// `--advantage_estimator`: grpo, rloo or reinforce_plus_plus.
    public var advantageEstimator: AdvantageEstimator = .grpo
    /// `--kl_in_reward`: with β > 0, `r − β·KL(π_old ‖ π_ref)` (the completion's summed log-ratio) replaces the
    /// loss's KL term; nil: ms-swift's default (on for rloo and reinforce++, off for grpo).
    public var klInReward: Bool?
    /// `--steps_per_generation` (TRL's): micro-batches one generation batch serves; nil: the gradient accumulation
    /// steps (one generation per optimizer step). A multiple k of them makes one generation batch of k optimizer
    /// steps' prompts, scored together and trained on over k steps against its sampling log-probabilities.
    public var stepsPerGeneration: Int?

    public init() {}

    /// Whether the KL goes into the reward (β > 0 only).
    public var resolvedKLInReward: Bool { loss.beta != 0 && (klInReward ?? advantageEstimator.klInRewardByDefault) }

    public func validate(rewardCount: Int) throws(TrainingError) {
        try loss.validate()
        guard numGenerations >= 2 else {
            throw .invalidArgument(flag: "num_generations", value: "\(numGenerations)",
                                   expected: "at least 2 with --advantage_estimator \(advantageEstimator.rawValue): its advantages are "
                                       + "relative to the prompt's group of completions (with one they are all 0"
                                       + (advantageEstimator == .rloo ? "; rloo's leave-one-out baseline has no other completion" : "")
                                       + ")")
        }
        if let stepsPerGeneration, stepsPerGeneration < 1 {
            throw .invalidArgument(flag: "steps_per_generation", value: "\(stepsPerGeneration)",
                                   expected: "a positive integer (default: --gradient_accumulation_steps)")
        }
        guard maxCompletionLength >= 1 else {
            throw .invalidArgument(flag: "max_completion_length", value: "\(maxCompletionLength)", expected: "a positive integer")
        }
        guard temperature > 0, temperature.isFinite else {
            throw .invalidArgument(flag: "temperature", value: "\(temperature)",
                                   expected: "a positive number (GRPO samples; the loss divides the logits by it)")
        }
        guard topP > 0, topP <= 1 else { throw .invalidArgument(flag: "top_p", value: "\(topP)", expected: "a number in (0, 1]") }
        guard topK >= 0 else { throw .invalidArgument(flag: "top_k", value: "\(topK)", expected: "an integer ≥ 0 (0 is off)") }
        guard repetitionPenalty > 0 else {
            throw .invalidArgument(flag: "repetition_penalty", value: "\(repetitionPenalty)", expected: "a positive number")
        }
        guard rewardCount > 0 else {
            throw .invalidArgument(flag: "reward_funcs", value: "none",
                                   expected: "at least one reward: \(BuiltinRewards.names.joined(separator: ", ")) or --reward_command")
        }
        if let rewardWeights, rewardWeights.count != rewardCount {
            throw .invalidArgument(flag: "reward_weights", value: rewardWeights.map { "\($0)" }.joined(separator: " "),
                                   expected: "one weight per reward function (\(rewardCount))")
        }
        guard numIterations >= 1 else {
            throw .invalidArgument(flag: "num_iterations", value: "\(numIterations)", expected: "a positive integer (default 1)")
        }
        guard maxResampleTimes >= 0 else {
            throw .invalidArgument(flag: "max_resample_times", value: "\(maxResampleTimes)", expected: "an integer ≥ 0")
        }
    }
}

/// A completion sampled for a prompt.
public struct SampledCompletion: Sendable {
    public var tokenIDs: [Int32]
    public var text: String
    /// Ended on a stop token (not cut by the length budget).
    public var terminated: Bool
}

/// Samples completions: GRPO's generation seam (the engine in-process; tests may hand a fixed sampler).
public protocol CompletionSampler: AnyObject {
    /// `count` completions of each prompt, each with its own seed; grouped prompt after prompt.
    func sample(_ prompts: [[Int32]], count: Int, seeds: [UInt64]) throws -> [SampledCompletion]
}

/// The in-process sampler: `GenerationEngine` on the policy itself (LoRA unmerged: its current weights, nothing
/// copied after an update), every prompt × G in one batched `generate` through the paged KV cache.
public final class EngineSampler: CompletionSampler {
    public let engine: GenerationEngine
    public var config: GenerationConfig

    public init(model: DecoderModel, tokenizer: Tokenizer, stopTokenIDs: Set<Int32>, stopStrings: [String],
                options: GRPOOptions, maxPromptLength: Int, maxBatchSize: Int) throws {
        let context = min(model.config.maxPositionEmbeddings, maxPromptLength + options.maxCompletionLength)
        engine = try GenerationEngine(model: model, tokenizer: tokenizer,
                                      options: EngineOptions(maxBatchSize: max(1, maxBatchSize), maxModelLength: context))
        config = GenerationConfig(maxNewTokens: options.maxCompletionLength, temperature: options.temperature,
                                  topK: options.topK, topP: options.topP, repetitionPenalty: options.repetitionPenalty,
                                  stopTokenIDs: stopTokenIDs, stopStrings: stopStrings)
        try config.validate()
    }

    public func sample(_ prompts: [[Int32]], count: Int, seeds: [UInt64]) throws -> [SampledCompletion] {
        var requests: [GenerationRequest] = []
        for (p, ids) in prompts.enumerated() {
            for g in 0..<count {
                var config = self.config
                config.seed = seeds[p * count + g]
                requests.append(GenerationRequest(promptIDs: ids, config: config))
            }
        }
        return try engine.generate(requests).map { result in
            SampledCompletion(tokenIDs: result.tokenIDs, text: result.text, terminated: result.finishReason == .stop)
        }
    }
}

/// GRPO over the objective seam: an optimizer step samples G completions for each prompt of its micro-batches,
/// scores them with the rewards, normalises the rewards per group into advantages, takes the reference's
/// log-probabilities (the adapter switched off, or a separate model) when β > 0, and runs TRL's loss and one backward
/// pass per micro-batch. The trainer's micro-batches are prompts (`per_device_train_batch_size / G` each); by default
/// one step's completions are TRL's generation batch (`steps_per_generation` = gradient accumulation steps), and with
/// `steps_per_generation` = k × that one generation batch serves k steps (TRL's buffer), `num_iterations` times over.
///
/// Statistics: f32 `[1 + k]`: the step's loss, then the `metricKeys` (NaN where a value does not exist).
public final class GRPOObjective: TrainingObjective {
    public let prompts: [GRPOPrompt]
    public let options: GRPOOptions
    public let rewards: [any RewardFunction]
    public let rewardWeights: [Double]
    public let sampler: any CompletionSampler
    /// The reference: nil with β = 0; the policy with its adapters off (`disableAdapters`), or another model.
    let referenceModel: DecoderModel?
    let disableAdaptersForReference: Bool
    public let metricKeys: [String]
    /// `--log_completions`: the file completions are appended to (set once the run folder exists).
    public var completionsLog: URL?
    /// The generation batch reused over `k · numIterations` steps (k = steps_per_generation / gradient accumulation),
    /// with its sampling log-probabilities: which generation it is, its micro-batches, and its metrics.
    var cached: (generation: Int, batch: [[GRPOCompletion]], metrics: [Double])?

    public init(prompts: [GRPOPrompt], options: GRPOOptions, rewards: [any RewardFunction], sampler: any CompletionSampler,
                reference: DecoderModel?, disableAdaptersForReference: Bool) throws {
        guard !prompts.isEmpty else { throw TrainingError.noTrainableTokens(dataset: "the GRPO prompts (there are none)") }
        try options.validate(rewardCount: rewards.count)
        if options.loss.beta != 0 && reference == nil {
            throw TrainingError.invalidArgument(flag: "beta", value: "\(options.loss.beta)",
                                                expected: "a reference model for the KL term (or --beta 0)")
        }
        self.prompts = prompts
        self.options = options
        self.rewards = rewards
        rewardWeights = options.rewardWeights ?? Array(repeating: 1, count: rewards.count)
        self.sampler = sampler
        referenceModel = options.loss.beta != 0 ? reference : nil
        self.disableAdaptersForReference = disableAdaptersForReference
        let names = rewards.map(\.name)
        let lossKeys: [String]
        switch options.loss.lossType {
        case .cispo: lossKeys = ["cispo_clip_ratio"]
        case .sapo: lossKeys = []
        default:
            lossKeys = ["clip_ratio/low_mean", "clip_ratio/low_min", "clip_ratio/high_mean", "clip_ratio/high_max",
                        "clip_ratio/region_mean"]
        }
        metricKeys = GRPOLoss.completionMetrics(lengths: [1], terminated: [true]).map(\.key)
            + names.flatMap { ["rewards/\($0)/mean", "rewards/\($0)/std"] }
            + ["reward", "reward_std", "frac_reward_zero_std"] + (options.loss.beta != 0 ? ["kl"] : []) + lossKeys
            + ["entropy", "time/generate", "time/score", "time/train"]
    }

    /// With μ > 1 every prompt counts μ times (each generation batch serves μ optimizer steps), so the trainer's epochs
    /// and step count are TRL's; the prompts themselves then come from `promptsForGeneration`.
    public var trainCount: Int { prompts.count * options.numIterations }
    public var validationCount: Int { 0 }
    public func tokenCount(train indices: [Int]) -> Int {
        indices.reduce(0) { $0 + options.numGenerations * prompts[$1 % prompts.count].promptIDs.count }
    }

    /// Optimizer steps per buffer pass of a generation batch: steps_per_generation / the step's micro-batches.
    func stepsPerBuffer(microBatches: Int) -> Int {
        max(1, (options.stepsPerGeneration ?? microBatches) / max(microBatches, 1))
    }

    /// μ > 1 or k > 1: the prompts of the generation batch made at `step` (every `period` = k·μ steps): the next ones
    /// of a seeded shuffle per epoch over the prompts, so every prompt is sampled once per epoch (the trainer's
    /// indices of the reuse steps would otherwise be skipped). Shaped as `microBatches` (the generation's).
    func promptsForGeneration(step: Int, shape microBatches: [[Int]], runSeed: UInt64, period: Int? = nil) -> [[Int]] {
        let perGeneration = microBatches.reduce(0) { $0 + $1.count }
        var position = (step / (period ?? options.numIterations)) * perGeneration
        var orders: [Int: [Int]] = [:]
        return microBatches.map { micro in
            micro.map { _ in
                let epoch = position / prompts.count
                if orders[epoch] == nil {
                    var generator = SeededGenerator(seed: runSeed &+ UInt64(epoch) &* 0x9E37_79B9)
                    orders[epoch] = Array(0..<prompts.count).shuffled(using: &generator)
                }
                defer { position += 1 }
                return orders[epoch]![position % prompts.count]
            }
        }
    }

    /// The seed of completion g of prompt `index` at `step`: a run is reproducible, batch or not.
    static func seed(run: UInt64, step: Int, prompt: Int, generation: Int) -> UInt64 {
        var x = run &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ UInt64(prompt) &* 0x94D0_49BB_1331_11EB) &+ UInt64(generation)
        x ^= x >> 31
        return x &* 0xD6E8_FEB8_6659_FD93
    }

    /// Samples and scores the completions of `indices` (prompt indices), returning them grouped per prompt with
    /// their per-function rewards.
    func rollout(_ indices: [Int], step: Int, runSeed: UInt64, round: Int) throws -> [(prompt: Int, completions: [SampledCompletion], rewards: [[Double]])] {
        let g = options.numGenerations
        let seeds = indices.enumerated().flatMap { p, index in
            (0..<g).map { Self.seed(run: runSeed &+ UInt64(round) &* 7919, step: step, prompt: index, generation: $0) }
        }
        let sampled = try sampler.sample(indices.map { prompts[$0].promptIDs }, count: g, seeds: seeds)
        guard sampled.count == indices.count * g else {
            throw TrainingError.invalidArgument(flag: "num_generations", value: "\(g)",
                                                expected: "\(indices.count * g) completions from the sampler, got \(sampled.count)")
        }
        let samples = sampled.enumerated().map { i, c in
            let prompt = prompts[indices[i / g]]
            return RewardSample(prompt: prompt.text, completion: c.text, completionTokenCount: c.tokenIDs.count,
                                terminated: c.terminated, row: prompt.fields, location: prompt.location,
                                conversation: prompt.conversation)
        }
        var perFunction: [[Double]] = []
        for reward in rewards {
            let values = try reward.rewards(samples)
            guard values.count == samples.count else {
                throw TrainingError.invalidArgument(flag: "reward_funcs", value: reward.name,
                                                    expected: "\(samples.count) rewards (one per completion), got \(values.count)")
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw TrainingError.invalidArgument(
                    flag: "reward_funcs", value: reward.name,
                    expected: "a finite reward; got \(values[bad]) for the completion \(String(reflecting: String(samples[bad].completion.prefix(200)))) "
                        + "of the row at \(samples[bad].location)")
            }
            perFunction.append(values)
        }
        return indices.enumerated().map { p, index in
            (index, Array(sampled[(p * g)..<((p + 1) * g)]),
             (p * g..<((p + 1) * g)).map { i in perFunction.map { $0[i] } })
        }
    }

    /// One generation batch: sampled, scored, with advantages (and dynamic sampling's resampling), as completion
    /// lists per micro-batch; plus the generation metrics in `metricKeys` order (NaN for the loss's).
    ///
    /// With `model`, the log-probabilities the batch needs are taken before the advantages: the reference's (β > 0)
    /// and, with `keepOldLogps` or the KL in the reward, the sampling policy's; `--kl_in_reward` then subtracts
    /// `β · Σ_t (log π_old − log π_ref)` from each completion's reward.
    func generationBatch(_ microBatches: [[Int]], step: Int, runSeed: UInt64, model: DecoderModel? = nil,
                         keepOldLogps: Bool = false)
        throws -> (batch: [[GRPOCompletion]], metrics: [String: Double]) {
        let g = options.numGenerations
        var start = Date()
        var groups = try rollout(microBatches.flatMap { $0 }, step: step, runSeed: runSeed, round: 0)
        var generateSeconds = Date().timeIntervalSince(start)
        func totals(_ group: (prompt: Int, completions: [SampledCompletion], rewards: [[Double]])) -> [Double] {
            group.rewards.map { zip($0, rewardWeights).reduce(0) { $0 + $1.0 * $1.1 } }
        }
        func equalRewards(_ group: (prompt: Int, completions: [SampledCompletion], rewards: [[Double]])) -> Bool {
            let t = totals(group)
            return GRPOLoss.isCloseToZero(GRPOLoss.std(t[...]))
        }
        if options.dynamicSample {
            // DAPO: keep the groups whose rewards differ; refill the rest with fresh samples of the batch's prompts.
            for round in 1...max(options.maxResampleTimes, 1) where groups.contains(where: equalRewards) {
                let missing = groups.indices.filter { equalRewards(groups[$0]) }
                let fresh = try rollout(missing.map { groups[$0].prompt }, step: step, runSeed: runSeed, round: round)
                var replacements = fresh.filter { !equalRewards($0) }
                for i in missing where !replacements.isEmpty { groups[i] = replacements.removeFirst() }
            }
            generateSeconds = Date().timeIntervalSince(start)
        }
        start = Date()
        // Completions per micro-batch, in the trainer's micro-batch sizes (advantages below).
        var batch: [[GRPOCompletion]] = []
        var next = 0
        for micro in microBatches {
            var list: [GRPOCompletion] = []
            for _ in micro {
                let group = groups[next]
                for c in group.completions {
                    list.append(GRPOCompletion(promptIDs: prompts[group.prompt].promptIDs, completionIDs: c.tokenIDs,
                                               inLoss: !(options.overlongFilter && !c.terminated)))
                }
                next += 1
            }
            batch.append(list)
        }
        var metrics: [String: Double] = [:]
        var allTotals = groups.flatMap(totals)
        if let model {
            let klInReward = options.resolvedKLInReward
            for m in batch.indices where !batch[m].isEmpty {
                if let referenceModel {
                    let ref = try GRPOPolicyStep.referenceLogps(model: referenceModel, completions: batch[m],
                                                                temperature: options.temperature,
                                                                disableAdapters: disableAdaptersForReference)
                    for i in batch[m].indices { batch[m][i].refLogps = ref[i] }
                }
                if keepOldLogps || klInReward {
                    let old = try GRPOPolicyStep.tokenLogps(model: model, completions: batch[m], temperature: options.temperature).logps
                    for i in batch[m].indices { batch[m][i].oldLogps = old[i] }
                }
            }
            if klInReward {
                // ms-swift's kl_in_reward: the completion's summed log-ratio of the sampling policy to the reference.
                let kl = batch.joined().map { c -> Double in
                    zip(c.oldLogps ?? [], c.refLogps ?? []).reduce(0) { $0 + $1.0 - $1.1 }
                }
                for i in allTotals.indices { allTotals[i] -= options.loss.beta * kl[i] }
                metrics["kl"] = kl.reduce(0, +) / Double(max(kl.count, 1))
                if !keepOldLogps { for m in batch.indices { for i in batch[m].indices { batch[m][i].oldLogps = nil } } }
            }
        }
        let advantages = GRPOLoss.advantages(rewards: allTotals, groupSize: g, scaling: options.scaleRewards,
                                             estimator: options.advantageEstimator)
        var n = 0
        for m in batch.indices {
            for i in batch[m].indices {
                batch[m][i].advantage = advantages.advantages[n]
                n += 1
            }
        }
        let flat = groups.flatMap(\.completions)
        for (key, value) in GRPOLoss.completionMetrics(lengths: flat.map(\.tokenIDs.count), terminated: flat.map(\.terminated)) {
            metrics[key] = value
        }
        let perFunction = rewards.indices.map { k in groups.flatMap { $0.rewards.map { $0[k] } } }
        for (key, value) in GRPOLoss.rewardFunctionMetrics(names: rewards.map(\.name), perFunction: perFunction) {
            metrics[key] = value
        }
        metrics["reward"] = advantages.reward
        metrics["reward_std"] = advantages.rewardStd
        metrics["frac_reward_zero_std"] = advantages.fracRewardZeroStd
        metrics["time/generate"] = generateSeconds
        if let log = completionsLog { try appendCompletions(groups, advantages: advantages.advantages, step: step, to: log) }
        metrics["time/score"] = Date().timeIntervalSince(start)
        return (batch, metrics)
    }

    /// `completions.jsonl`: one line per completion (step, prompt, completion, each reward, advantage).
    func appendCompletions(_ groups: [(prompt: Int, completions: [SampledCompletion], rewards: [[Double]])],
                           advantages: [Double], step: Int, to url: URL) throws {
        var text = ""
        for (p, group) in groups.enumerated() {
            for (j, c) in group.completions.enumerated() {
                var members: [JSONMember] = [
                    JSONMember(key: "step", value: .number(JSONNumber(step + 1))),
                    JSONMember(key: "prompt", value: .string(prompts[group.prompt].text)),
                    JSONMember(key: "completion", value: .string(c.text)),
                    JSONMember(key: "completion_tokens", value: .number(JSONNumber(c.tokenIDs.count))),
                    JSONMember(key: "terminated", value: .bool(c.terminated)),
                ]
                for (k, reward) in rewards.enumerated() {
                    members.append(JSONMember(key: reward.name, value: .number(JSONNumber(group.rewards[j][k]))))
                }
                members.append(JSONMember(key: "advantage", value: .number(JSONNumber(advantages[p * options.numGenerations + j]))))
                text += JSONValue.object(members).pythonJSONString(asciiOnly: false) + "\n"
            }
        }
        if !FileManager.default.fileExists(atPath: url.path) { FileManager.default.createFile(atPath: url.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    public func accumulateGradients(model: DecoderModel, microBatches: [[Int]], step: Int, runSeed: UInt64) throws -> Tensor {
        let temperature = options.temperature
        let gas = microBatches.count
        let k = stepsPerBuffer(microBatches: gas)
        let period = k * options.numIterations
        let generationIndex = step / period
        let all: [[GRPOCompletion]]
        var generation: [String: Double]
        if let cached, cached.generation == generationIndex, step % period != 0 {
            // The same generation batch again (its next slice, or another pass over it), the sampling policy's
            // log-probabilities kept.
            generation = Dictionary(uniqueKeysWithValues: zip(metricKeys, cached.metrics).filter { !$0.1.isNaN })
            generation["time/generate"] = 0
            generation["time/score"] = 0
            all = cached.batch
        } else {
            let shape = Array(Array(repeating: microBatches, count: k).joined())
            let indices = period > 1
                ? promptsForGeneration(step: step, shape: shape, runSeed: runSeed, period: period)
                : microBatches
            (all, generation) = try generationBatch(indices, step: step, runSeed: runSeed, model: model,
                                                    keepOldLogps: period > 1)
            cached = period > 1 ? (generationIndex, all, metricKeys.map { generation[$0] ?? .nan }) : nil
        }
        // TRL's buffer order: slices 0, 1, …, k − 1 of the generation batch, then again for each of the μ passes.
        let slice = (step % period) % k
        let batch = Array(all[min(slice * gas, all.count)..<min((slice + 1) * gas, all.count)])
        var lossOptions = options.loss
        if options.resolvedKLInReward { lossOptions.beta = 0 }  // the KL is in the advantages
        let start = Date()
        // dapo / cispo: TRL's num_items_in_batch (the generation batch's completion tokens) per optimizer step.
        let itemsInBatch = Double(all.joined().reduce(0) { $0 + ($1.inLoss ? $1.completionIDs.count : 0) }) / Double(k)
        var loss = 0.0
        var lossMetrics: [String: (sum: Double, count: Double)] = [:]
        for (micro, completions) in batch.enumerated() where !completions.isEmpty {
            let seed = DropoutMask.stepSeed(run: runSeed, step: step, microBatch: micro)
            let result = try GRPOPolicyStep.accumulate(
                model: model, completions: completions, options: lossOptions, temperature: temperature,
                gradientAccumulationSteps: batch.count, itemsInBatch: itemsInBatch, dropoutSeed: seed)
            loss += result.loss
            for (key, value) in result.metrics where !value.isNaN {
                lossMetrics[key, default: (0, 0)].sum += value
                lossMetrics[key, default: (0, 0)].count += 1
            }
        }
        var values = [loss]
        for key in metricKeys {
            if key == "time/train" { values.append(Date().timeIntervalSince(start)); continue }
            if let m = lossMetrics[key], !(key == "kl" && options.resolvedKLInReward) { values.append(m.sum / m.count); continue }
            values.append(generation[key] ?? .nan)
        }
        return try model.backend.tensor(values.map { Float($0) }, shape: [values.count], dtype: .f32)
    }

    public func evaluate(model: DecoderModel, validation indices: [Int]) throws -> Tensor {
        try model.backend.tensor([0, 0], shape: [2], dtype: .f32)
    }

    public func stepLoss(_ statistics: [Float]) -> Double { Double(statistics.first ?? 0) }

    /// The interval's mean of each metric over the steps that have it (TRL averages its records).
    public func trainingMetrics(steps: [[Float]]) -> [(key: String, value: Double)] {
        let loss = steps.map(stepLoss).reduce(0, +) / Double(max(steps.count, 1))
        var out: [(key: String, value: Double)] = [("loss", loss)]
        for (i, key) in metricKeys.enumerated() {
            let values = steps.compactMap { $0.count > i + 1 ? Double($0[i + 1]) : nil }.filter { !$0.isNaN }
            if !values.isEmpty { out.append((key, values.reduce(0, +) / Double(values.count))) }
        }
        return out
    }

    public func evaluationMetrics(_ sum: [Double]) -> [(key: String, value: Double)] { [("eval_loss", 0)] }
}
