import Foundation
import SwiftTuneAdapters
import SwiftTuneChat
import SwiftTuneData
import SwiftTuneHub
import SwiftTuneJSON
import SwiftTuneModels
import SwiftTuneTensor

/// Everything `swift-tune rlhf` resolved from its flags: the shared training options plus the preference ones.
public struct RLHFOptions: Sendable {
    public var training: SFTOptions
    public var preference: PreferenceOptions
    /// `--ref_model`: a separate reference model (its log-probabilities are precomputed before training, so it is not
    /// kept in memory); nil: the policy with its adapters off (LoRA) or its initial weights (full).
    public var refModel: URL?
    /// `--ref_adapters`: an adapter applied to the reference model (`--ref_model`, else the base).
    public var refAdapters: URL?

    public init(training: SFTOptions, preference: PreferenceOptions) {
        self.training = training
        self.preference = preference
    }

    /// Checks the combinations the preference flags allow with the shared ones, naming the flags.
    public func validate() throws(TrainingError) {
        try preference.validate()
        let type = preference.rlhfType
        if let (flag, _) = [("ref_model", refModel), ("ref_adapters", refAdapters)].first(where: { $0.1 != nil }) {
            guard type.needsReference else {
                throw .conflictingArguments(flag, "rlhf_type \(type.rawValue)",
                                            hint: "\(type.rawValue) never uses a reference model; drop --\(flag)")
            }
            if preference.referenceFree {
                throw .conflictingArguments(flag, "reference_free true", hint: "a reference-free run uses no reference model")
            }
        }
        if training.data.packing {
            throw .conflictingArguments("packing", "rlhf_type \(type.rawValue)",
                                        hint: "preference rows are scored per answer; drop --packing")
        }
        if type == .kto && training.training.perDeviceTrainBatchSize < 2 {
            throw .invalidArgument(
                flag: "per_device_train_batch_size", value: "\(training.training.perDeviceTrainBatchSize)",
                expected: "at least 2 with --rlhf_type kto (its KL estimate pairs each prompt with another row's answer)")
        }
    }
}

/// `swift-tune rlhf` as a library call: the shared setup (`TrainingSetup`), the preference datasets encoded as `sft`
/// encodes answers, the reference (adapters off, precomputed, or a separate model), the objective of `--rlhf_type`,
/// and the trainer with `sft`'s checkpoints and adapters (a reward model's adapter is a PEFT SEQ_CLS one with its
/// value head `score`).
public enum RLHF {
    public static func run(_ options: RLHFOptions, backend: any Backend, stop: StopSignal? = nil,
                           observer: (any TrainingObserver)? = nil,
                           message: (String) -> Void = { _ in }) throws -> SFTResult {
        try options.validate()
        let preference = options.preference
        var training = options.training
        training.data.preferenceRows = preference.rlhfType == .kto ? .label : .pair
        training.data.maxCompletionLength = preference.maxCompletionLength
        training.valueHead = preference.rlhfType == .rm
        let setup = try TrainingSetup(training, backend: backend, message: message)
        let data = try DatasetPipeline.load(training.datasets, options: training.data, tokenizer: setup.tokenizer,
                                            template: setup.template)
        message("dataset: \(data.report)")
        let objective = try makeObjective(options, data: data, setup: setup, message: message)
        let (runFolder, summary) = try setup.train(objective, validationRows: data.validationRows, stop: stop,
                                                   observer: observer, extraArguments: runArguments(options),
                                                   message: message)
        return SFTResult(runFolder: runFolder, summary: summary, datasetReport: data.report)
    }

    /// The objective of `--rlhf_type` over the encoded rows, its reference precomputed when it needs one.
    static func makeObjective(_ options: RLHFOptions, data: DatasetLoadResult, setup: TrainingSetup,
                              message: (String) -> Void) throws -> any TrainingObjective {
        let preference = options.preference
        let maxCompletion = preference.maxCompletionLength
        switch preference.rlhfType {
        case .kto:
            func examples(_ dataset: EncodedDataset) -> [KTOExample] {
                dataset.rows.compactMap { row in
                    guard let label = row.label, let sample = finalAnswer(row.chosen, maxCompletion) else { return nil }
                    return KTOExample(sample: sample, label: label)
                }
            }
            let kto = try KTOObjective(train: examples(data.train), validation: data.validation.map(examples) ?? [],
                                       options: preference, klBlockSize: options.training.training.perDeviceTrainBatchSize)
            try precompute(kto.precomputeReference, options: options, setup: setup, message: message)
            return kto
        case .rm:
            // The reward model scores each whole sequence (prompt and answer) at its last token.
            func pairs(_ dataset: EncodedDataset) -> [PreferencePair] {
                dataset.rows.compactMap { row in row.rejected.map { PreferencePair(chosen: row.chosen, rejected: $0) } }
            }
            message("value head: score [1, \(setup.model.config.hiddenSize)] on the last token")
            return try RewardModelObjective(train: pairs(data.train), validation: data.validation.map(pairs) ?? [],
                                            centerRewardsCoefficient: preference.centerRewardsCoefficient)
        case .dpo, .cpo, .simpo, .orpo:
            func pairs(_ dataset: EncodedDataset) -> [PreferencePair] {
                dataset.rows.compactMap { row in
                    guard let rejected = row.rejected, let c = finalAnswer(row.chosen, maxCompletion),
                          let r = finalAnswer(rejected, maxCompletion) else { return nil }
                    return PreferencePair(chosen: c, rejected: r)
                }
            }
            let objective = try PreferenceObjective(train: pairs(data.train), validation: data.validation.map(pairs) ?? [],
                                                    options: preference)
            if objective.usesReference {
                try precompute(objective.precomputeReference, options: options, setup: setup, message: message)
            } else {
                message("reference: none (\(preference.referenceFree ? "--reference_free" : preference.rlhfType.rawValue + " is reference-free"))")
            }
            return objective
        }
    }

    /// The sample with labels on its final answer only (TRL scores the completion), the answer cut to
    /// `maxCompletion` tokens; nil when no answer token is left.
    static func finalAnswer(_ sample: EncodedSample, _ maxCompletion: Int?) -> EncodedSample? {
        let start = PreferenceTruncation.answerStart(sample)
        guard start < sample.count else { return nil }
        let end = maxCompletion.map { min(sample.count, start + $0) } ?? sample.count
        let labels = Array(repeating: EncodedSample.ignoreIndex, count: start) + sample.labels[start..<end]
        return EncodedSample(inputIDs: Array(sample.inputIDs[..<end]), labels: labels)
    }

    /// The reference, as TRL picks it: a separate `--ref_model` / `--ref_adapters` (loaded for one pass that
    /// precomputes every reference log-probability, then released); the initial model for full fine-tuning or with
    /// `--precompute_ref_log_probs` (one pass before training: the same numbers a frozen copy would give, without the
    /// copy); else the policy with its adapter switched off at every step (one model in memory).
    static func precompute(_ run: (DecoderModel, Bool, Int) throws -> Void, options: RLHFOptions, setup: TrainingSetup,
                           message: (String) -> Void) throws {
        let batch = max(options.training.training.perDeviceEvalBatchSize, options.training.training.perDeviceTrainBatchSize)
        if options.refModel != nil || options.refAdapters != nil {
            let path = options.refModel ?? options.training.model
            let loaded = try LocalModel.load(path: path, backend: setup.model.backend)
            let (ours, theirs) = (setup.model.config.vocabSize, loaded.model.config.vocabSize)
            guard ours == theirs else {
                throw TrainingError.invalidArgument(
                    flag: "ref_model", value: path.path,
                    expected: "a model with the policy's vocabulary: the policy has \(ours) tokens, the reference \(theirs)")
            }
            if let adapters = options.refAdapters { try LoRAAdapter.load(from: adapters, into: loaded.model) }
            message("reference: \(path.path)\(options.refAdapters.map { " + \($0.path)" } ?? ""), log-probabilities precomputed")
            try run(loaded.model, false, batch)
        } else if options.preference.precomputeRefLogProbs || setup.fullFineTuning {
            message("reference: the initial model, log-probabilities precomputed before training")
            try run(setup.model, !setup.fullFineTuning, batch)
        } else {
            message("reference: the base model with the adapter disabled")
        }
    }

    /// `args.json`'s preference entries, under ms-swift's names.
    static func runArguments(_ options: RLHFOptions) -> [(String, JSONValue)] {
        let p = options.preference
        func number(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
        func optional(_ value: Double?) -> JSONValue { value.map(number) ?? .null }
        var values: [(String, JSONValue)] = [
            ("task", "rlhf"), ("rlhf_type", .string(p.rlhfType.rawValue)), ("beta", number(p.resolvedBeta)),
            ("loss_type", p.lossTypes.isEmpty ? .null : .array(p.lossTypes.map(JSONValue.string))),
            ("loss_weights", p.lossWeights.map { .array($0.map(number)) } ?? .null),
            ("label_smoothing", number(p.labelSmoothing)), ("rpo_alpha", optional(p.rpoAlpha)),
            ("reference_free", .bool(p.referenceFree)), ("precompute_ref_log_probs", .bool(p.precomputeRefLogProbs)),
            ("simpo_gamma", number(p.simpoGamma)), ("cpo_alpha", number(p.resolvedCPOAlpha)),
            ("discopop_tau", number(p.discopopTau)),
            ("desirable_weight", number(p.desirableWeight)), ("undesirable_weight", number(p.undesirableWeight)),
            ("center_rewards_coefficient", optional(p.centerRewardsCoefficient)),
            ("max_completion_length", p.maxCompletionLength.map { .number(JSONNumber($0)) } ?? .null),
            ("ref_model", options.refModel.map { .string($0.path) } ?? .null),
            ("ref_adapters", .array(options.refAdapters.map { [.string($0.path)] } ?? [])),
        ]
        if p.rlhfType == .rm { values += [("task_type", "seq_cls"), ("num_labels", .number(JSONNumber(1)))] }
        return values
    }
}
