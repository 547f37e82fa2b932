import Foundation
import SwiftTuneChat
import SwiftTuneData
import SwiftTuneHub
import SwiftTuneJSON
import SwiftTuneModels
import SwiftTuneRunFiles
import SwiftTuneTensor
import SwiftTuneTokenizers

/// Everything `swift-tune rlhf --rlhf_type grpo` resolved from its flags.
public struct GRPORunOptions: Sendable {
    public var training: SFTOptions
    public var grpo: GRPOOptions
    /// `--reward_funcs`: built-in rewards by name.
    public var rewardFuncs: [String]
    public var rewardSettings: RewardSettings
    /// `--reward_command "prog args"`: a user reward as a long-lived process (one JSON line in, one number out).
    public var rewardCommand: String?
    /// `--reward_model PATH`: a reward model (`rlhf --rlhf_type rm` checkpoint) scoring each completion.
    public var rewardModel: URL?
    /// `--reward_url URL`: a reward server (one POST of a JSON list per generation batch).
    public var rewardURL: URL?
    /// `--ref_model PATH`: a separate reference model for the KL (β > 0) instead of the adapter switched off or a
    /// frozen copy of the policy.
    public var refModel: URL?

    /// The rewards beside the built-ins, in the order they run and are logged.
    public var externalRewardCount: Int {
        [rewardCommand != nil, rewardModel != nil, rewardURL != nil].filter { $0 }.count
    }

    public init(training: SFTOptions, grpo: GRPOOptions = GRPOOptions(), rewardFuncs: [String],
                rewardSettings: RewardSettings = RewardSettings(), rewardCommand: String? = nil) {
        self.training = training
        self.grpo = grpo
        self.rewardFuncs = rewardFuncs
        self.rewardSettings = rewardSettings
        self.rewardCommand = rewardCommand
    }

    /// `per_device_train_batch_size` counts completions (TRL's and ms-swift's), so it must hold whole groups.
    public func validate() throws(TrainingError) {
        let batch = training.training.perDeviceTrainBatchSize, g = grpo.numGenerations
        try grpo.validate(rewardCount: rewardFuncs.count + externalRewardCount)
        let accumulation = training.training.resolvedGradientAccumulationSteps
        if let steps = grpo.stepsPerGeneration, steps % accumulation != 0 {
            throw .invalidArgument(
                flag: "steps_per_generation", value: "\(steps)",
                expected: "a multiple of --gradient_accumulation_steps \(accumulation): one generation batch serves whole "
                    + "optimizer steps (try \(max(accumulation, steps / accumulation * accumulation)))")
        }
        if let refModel, grpo.loss.beta == 0 {
            throw .conflictingArguments("ref_model", "beta 0",
                                        hint: "β 0 runs no reference model; drop --ref_model \(refModel.path) or set --beta > 0")
        }
        guard batch % g == 0 else {
            throw .invalidArgument(flag: "per_device_train_batch_size", value: "\(batch)",
                                   expected: "a multiple of --num_generations \(g): it counts completions, and each "
                                       + "prompt's \(g) completions share a micro-batch (try \(max(g, batch / g * g)))")
        }
        if training.data.packing {
            throw .conflictingArguments("packing", "rlhf_type grpo", hint: "GRPO scores sampled completions; drop --packing")
        }
    }
}

/// `swift-tune rlhf --rlhf_type grpo` as a library call: the model and adapter (`TrainingSetup`), the prompts of the
/// dataset rendered for generation, the rewards (their columns checked on every row before any sampling), the engine
/// on the policy, the reference (the adapter off for LoRA, a frozen copy for full training, none with β = 0), and the
/// trainer with `sft`'s checkpoints and logging.
public enum GRPO {
    public static func run(_ options: GRPORunOptions, backend: any Backend, stop: StopSignal? = nil,
                           observer: (any TrainingObserver)? = nil,
                           message: (String) -> Void = { _ in }) throws -> SFTResult {
        try options.validate()
        var training = options.training
        let g = options.grpo.numGenerations
        // ms-swift's default accumulation (16 / batch) counts completions; pin it before the trainer's items become
        // prompts.
        training.training.gradientAccumulationSteps = training.training.resolvedGradientAccumulationSteps
        training.training.perDeviceTrainBatchSize /= g  // the trainer's items are prompts
        let setup = try TrainingSetup(training, backend: backend, message: message)
        var report = DatasetLoadReport()
        let prompts = try loadPrompts(training.datasets, options: training.data, tokenizer: setup.tokenizer,
                                      template: setup.template, report: &report)
        message("dataset: \(prompts.count) prompts from \(report.rowsRead) rows")
        var settings = options.rewardSettings
        settings.maxCompletionLength = options.grpo.maxCompletionLength
        var rewards: [any RewardFunction] = try options.rewardFuncs.map { try BuiltinRewards.make($0, settings: settings) }
        if let command = options.rewardCommand { rewards.append(try CommandReward(command: command)) }
        if let path = options.rewardModel { rewards.append(try ModelReward(path: path, backend: backend, message: message)) }
        if let url = options.rewardURL { rewards.append(URLReward(url: url)) }
        for reward in rewards { try reward.checkColumns(rows: prompts.map { ($0.fields, $0.location) }) }
        message("rewards: " + zip(rewards.map(\.name), options.grpo.rewardWeights ?? rewards.map { _ in 1 })
            .map { "\($0) × \($1)" }.joined(separator: ", "))

        let eosText = setup.tokenizer.eosTokenID.flatMap { setup.tokenizer.token($0) }
        var stopIDs = Set<Int32>(), stopStrings: [String] = []
        let added = Set(setup.tokenizer.addedTokens.map(\.id))
        for word in setup.template.allStopWords(eosToken: eosText) where !word.isEmpty {
            let ids = setup.tokenizer.encode(word, addSpecialTokens: false)
            if ids.count == 1, added.contains(ids[0]) { stopIDs.insert(ids[0]) } else if !stopStrings.contains(word) { stopStrings.append(word) }
        }
        if let eos = setup.tokenizer.eosTokenID { stopIDs.insert(eos) }
        let promptsPerStep = training.training.perDeviceTrainBatchSize
            * (options.grpo.stepsPerGeneration ?? training.training.resolvedGradientAccumulationSteps)
        let maxPrompt = prompts.map { $0.promptIDs.count }.max() ?? 1
        let sampler = try EngineSampler(model: setup.model, tokenizer: setup.tokenizer, stopTokenIDs: stopIDs,
                                        stopStrings: stopStrings, options: options.grpo, maxPromptLength: maxPrompt,
                                        maxBatchSize: promptsPerStep * g)
        message("sampling: the in-process engine on the policy (\(promptsPerStep) prompts × \(g) completions per generation, "
            + "temperature \(options.grpo.temperature), top_p \(options.grpo.topP), top_k \(options.grpo.topK), "
            + "max_completion_length \(options.grpo.maxCompletionLength))")

        var reference: DecoderModel?
        if options.grpo.loss.beta != 0 {
            if let path = options.refModel {
                let loaded = try LocalModel.load(path: path, backend: backend).model
                let (ours, theirs) = (setup.model.config.vocabSize, loaded.config.vocabSize)
                guard ours == theirs else {
                    throw TrainingError.invalidArgument(
                        flag: "ref_model", value: path.path,
                        expected: "a model with the policy's vocabulary: the policy has \(ours) tokens, the reference \(theirs)")
                }
                reference = loaded
                message("reference: \(path.path) (β \(options.grpo.loss.beta))")
            } else if setup.fullFineTuning {
                reference = try LocalModel.load(path: training.model, backend: backend).model
                message("reference: a frozen copy of \(training.model.path) (β \(options.grpo.loss.beta))")
            } else {
                reference = setup.model
                message("reference: the base model with the adapter disabled (β \(options.grpo.loss.beta))")
            }
        } else {
            message("reference: none (β 0)")
        }
        let objective = try GRPOObjective(prompts: prompts, options: options.grpo, rewards: rewards, sampler: sampler,
                                          reference: reference,
                                          disableAdaptersForReference: !setup.fullFineTuning && options.refModel == nil)
        let watcher = RunFolderObserver(inner: observer) { folder in
            if options.grpo.logCompletions { objective.completionsLog = folder.appendingPathComponent("completions.jsonl") }
        }
        let (runFolder, summary) = try setup.train(objective, stop: stop, observer: watcher,
                                                   extraArguments: runArguments(options), message: message)
        return SFTResult(runFolder: runFolder, summary: summary, datasetReport: report)
    }

    /// The prompts of `specs`: each row preprocessed as `sft` reads it (messages, query/response and their aliases),
    /// its final assistant message dropped (the policy writes that), rendered by the template up to the assistant
    /// header; every column kept for the rewards.
    public static func loadPrompts(_ specs: [DatasetSpec], options: DatasetOptions, tokenizer: any TextTokenizer,
                                   template: ChatTemplate, report: inout DatasetLoadReport) throws -> [GRPOPrompt] {
        let encoder = TemplateEncoder(template: template, tokenizer: tokenizer, options: options.template)
        let preprocessor = RowPreprocessor(columns: options.columns, autoColumnMapping: options.autoColumnMapping,
                                           requiresAnswer: false)
        var random = NumpyRandomState(seed: options.dataSeed)
        var out: [GRPOPrompt] = []
        for spec in specs {
            guard case let .path(path) = spec.source else {
                throw TrainingError.invalidArgument(flag: "dataset", value: spec.raw,
                                                    expected: "a local file or folder of prompt rows for GRPO")
            }
            var rows: [GRPOPrompt] = []
            var failure: Error?
            try DatasetFileReader(maxLineBytes: options.maxLineBytes).forEachRecord(at: path) { (record: RawRecord) throws(DataError) in
                report.rowsRead += 1
                let fields = try record.fields.get()
                var row = try preprocessor.convert(fields, at: record.location)
                if row.conversation.messages.last?.role == .assistant { row.conversation.messages.removeLast() }
                guard row.conversation.messages.contains(where: { $0.role == .user }) else {
                    throw DataError.badRow(location: record.location, problem: .noUsableFields, key: "messages",
                                           detail: "a GRPO row needs a user message to answer")
                }
                do {
                    let ids = try encoder.encode(row.conversation, mode: .generation).inputIDs
                    let text = row.conversation.messages.last { $0.role == .user }?.content ?? ""
                    rows.append(GRPOPrompt(promptIDs: ids, text: text, fields: fields, location: record.location.description,
                                           conversation: row.conversation))
                } catch {
                    failure = failure ?? TrainingError.invalidArgument(flag: "dataset", value: record.location.description,
                                                                       expected: "a row the template renders (\(error))")
                }
            }
            if let failure { throw failure }
            if let sample = spec.sampleCount {
                rows = DatasetPipeline.sampleIndices(count: rows.count, sample: sample, shuffle: true, random: &random).map { rows[$0] }
            }
            out += rows
        }
        return out
    }

    /// `args.json`'s GRPO entries, under ms-swift's names.
    static func runArguments(_ options: GRPORunOptions) -> [(String, JSONValue)] {
        let o = options.grpo
        func number(_ v: Double) -> JSONValue { .number(JSONNumber(v)) }
        func int(_ v: Int) -> JSONValue { .number(JSONNumber(v)) }
        return [
            ("task", "rlhf"), ("rlhf_type", "grpo"), ("beta", number(o.loss.beta)), ("epsilon", number(o.loss.epsilon)),
            ("epsilon_high", number(o.loss.resolvedEpsilonHigh)), ("loss_type", .string(o.loss.lossType.rawValue)),
            ("importance_sampling_level", .string(o.loss.importanceSamplingLevel.rawValue)),
            ("scale_rewards", .string(o.scaleRewards.rawValue)), ("num_generations", int(o.numGenerations)),
            ("max_completion_length", int(o.maxCompletionLength)), ("temperature", number(o.temperature)),
            ("top_p", number(o.topP)), ("top_k", int(o.topK)), ("repetition_penalty", number(o.repetitionPenalty)),
            ("reward_funcs", .array(options.rewardFuncs.map(JSONValue.string))),
            ("reward_weights", o.rewardWeights.map { .array($0.map(number)) } ?? .null),
            ("reward_command", options.rewardCommand.map(JSONValue.string) ?? .null),
            ("reward_model", options.rewardModel.map { .string($0.path) } ?? .null),
            ("reward_url", options.rewardURL.map { .string($0.absoluteString) } ?? .null),
            ("ref_model", options.refModel.map { .string($0.path) } ?? .null),
            ("advantage_estimator", .string(o.advantageEstimator.rawValue)), ("kl_in_reward", .bool(o.resolvedKLInReward)),
            ("steps_per_generation", int(o.stepsPerGeneration ?? options.training.training.resolvedGradientAccumulationSteps)),
            ("num_iterations", int(o.numIterations)), ("dynamic_sample", .bool(o.dynamicSample)),
            ("max_resample_times", int(o.maxResampleTimes)), ("overlong_filter", .bool(o.overlongFilter)),
            ("log_completions", .bool(o.logCompletions)),
            ("per_device_train_batch_size", int(options.training.training.perDeviceTrainBatchSize)),
        ]
    }
}

/// Forwards to another observer and tells `onStart` the run folder when training starts.
final class RunFolderObserver: TrainingObserver {
    let inner: (any TrainingObserver)?
    let onStart: (URL) -> Void

    init(inner: (any TrainingObserver)?, onStart: @escaping (URL) -> Void) {
        self.inner = inner
        self.onStart = onStart
    }

    func trainingStarted(totalSteps: Int, runFolder: URL) {
        onStart(runFolder)
        inner?.trainingStarted(totalSteps: totalSteps, runFolder: runFolder)
    }
    func stepFinished(step: Int, totalSteps: Int, loss: Double?, learningRate: Double, tokensPerSecond: Double) {
        inner?.stepFinished(step: step, totalSteps: totalSteps, loss: loss, learningRate: learningRate, tokensPerSecond: tokensPerSecond)
    }
    func logged(_ record: LogRecord) { inner?.logged(record) }
    func checkpointSaved(_ folder: URL) { inner?.checkpointSaved(folder) }
}
