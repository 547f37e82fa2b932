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
}

/// `swift-tune rlhf` as a library call: the shared setup (`TrainingSetup`), the preference datasets encoded as `sft`
/// encodes answers, the reference (adapters off, precomputed, or a separate model), the objective of `--rlhf_type`,
/// and the trainer with `sft`'s checkpoints and adapters.
public enum RLHF {
    public static func run(_ options: RLHFOptions, backend: any Backend, stop: StopSignal? = nil,
                           observer: (any TrainingObserver)? = nil,
                           message: (String) -> Void = { _ in }) throws -> SFTResult {
        var preference = options.preference
        try preference.validate()
        guard preference.rlhfType != .rm else {
            throw TrainingError.invalidArgument(flag: "rlhf_type", value: "rm",
                                                expected: "dpo, kto, cpo, simpo or orpo (reward modelling is not yet wired to the command)")
        }
        let isKTO = preference.rlhfType == .kto
        if isKTO && options.training.training.perDeviceTrainBatchSize < 2 {
            throw TrainingError.invalidArgument(
                flag: "per_device_train_batch_size", value: "\(options.training.training.perDeviceTrainBatchSize)",
                expected: "at least 2 with --rlhf_type kto (its KL estimate pairs each prompt with another row's answer)")
        }
        var training = options.training
        training.data.preferenceRows = isKTO ? .label : .pair
        if training.data.packing {
            throw TrainingError.conflictingArguments("packing", "rlhf_type \(preference.rlhfType.rawValue)",
                                                     hint: "preference rows are scored per answer; drop --packing")
        }
        let setup = try TrainingSetup(training, backend: backend, message: message)
        let data = try DatasetPipeline.load(training.datasets, options: training.data, tokenizer: setup.tokenizer,
                                            template: setup.template)
        message("dataset: \(data.report)")
        let name = training.datasets.map(\.raw).joined(separator: " ")
        let maxCompletion = preference.maxCompletionLength
        let objective: any TrainingObjective
        if isKTO {
            func examples(_ dataset: EncodedDataset) -> [KTOExample] {
                dataset.rows.compactMap { row in
                    guard let label = row.label, let sample = finalAnswer(row.chosen, maxCompletion) else { return nil }
                    return KTOExample(sample: sample, label: label)
                }
            }
            let kto = try KTOObjective(train: examples(data.train), validation: data.validation.map(examples) ?? [],
                                       options: preference, klBlockSize: training.training.perDeviceTrainBatchSize)
            try precompute(kto.precomputeReference, options: options, setup: setup, preference: preference, message: message)
            objective = kto
        } else {
            func pairs(_ dataset: EncodedDataset) -> [PreferencePair] {
                dataset.rows.compactMap { row in
                    guard let rejected = row.rejected, let c = finalAnswer(row.chosen, maxCompletion),
                          let r = finalAnswer(rejected, maxCompletion) else { return nil }
                    return PreferencePair(chosen: c, rejected: r)
                }
            }
            let trainPairs = pairs(data.train)
            guard !trainPairs.isEmpty else { throw TrainingError.noTrainableTokens(dataset: name) }
            let pairObjective = try PreferenceObjective(train: trainPairs, validation: data.validation.map(pairs) ?? [],
                                                        options: preference)
            if pairObjective.usesReference {
                try precompute(pairObjective.precomputeReference, options: options, setup: setup, preference: preference,
                               message: message)
            }
            objective = pairObjective
        }
        let (runFolder, summary) = try setup.train(objective, validationRows: data.validationRows, stop: stop,
                                                   observer: observer, extraArguments: runArguments(options),
                                                   message: message)
        return SFTResult(runFolder: runFolder, summary: summary, datasetReport: data.report)
    }

    /// The sample with labels on its final answer only (TRL scores the completion), the answer cut to
    /// `maxCompletion` tokens; nil when no answer token is left.
    static func finalAnswer(_ sample: EncodedSample, _ maxCompletion: Int?) -> EncodedSample? {
        let start = (sample.labels.lastIndex(of: EncodedSample.ignoreIndex) ?? -1) + 1
        guard start < sample.count else { return nil }
        let end = maxCompletion.map { min(sample.count, start + $0) } ?? sample.count
        let labels = Array(repeating: EncodedSample.ignoreIndex, count: start) + sample.labels[start..<end]
        return EncodedSample(inputIDs: Array(sample.inputIDs[..<end]), labels: labels)
    }

    /// Precomputes the reference when asked, for full fine-tuning (which keeps no frozen copy), and with a separate
    /// `--ref_model` / `--ref_adapters` (loaded for the pass, then released).
    static func precompute(_ run: (DecoderModel, Bool, Int) throws -> Void, options: RLHFOptions, setup: TrainingSetup,
                           preference: PreferenceOptions, message: (String) -> Void) throws {
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
        } else if preference.precomputeRefLogProbs || setup.fullFineTuning {
            message("reference: the initial model, log-probabilities precomputed")
            try run(setup.model, true, batch)
        } else {
            message("reference: the base model with the adapter disabled")
        }
    }

    /// `args.json`'s preference entries, under ms-swift's names.
    static func runArguments(_ options: RLHFOptions) -> [(String, JSONValue)] {
        let p = options.preference
        func number(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
        func optional(_ value: Double?) -> JSONValue { value.map(number) ?? .null }
        return [
            ("task", "rlhf"), ("rlhf_type", .string(p.rlhfType.rawValue)), ("beta", number(p.resolvedBeta)),
            ("loss_type", p.lossTypes.isEmpty ? .null : .array(p.lossTypes.map(JSONValue.string))),
            ("loss_weights", p.lossWeights.map { .array($0.map(number)) } ?? .null),
            ("label_smoothing", number(p.labelSmoothing)), ("rpo_alpha", optional(p.rpoAlpha)),
            ("reference_free", .bool(p.referenceFree)), ("precompute_ref_log_probs", .bool(p.precomputeRefLogProbs)),
            ("simpo_gamma", number(p.simpoGamma)), ("cpo_alpha", number(p.resolvedCPOAlpha)),
            ("desirable_weight", number(p.desirableWeight)), ("undesirable_weight", number(p.undesirableWeight)),
            ("center_rewards_coefficient", optional(p.centerRewardsCoefficient)),
            ("max_completion_length", p.maxCompletionLength.map { .number(JSONNumber($0)) } ?? .null),
            ("ref_model", options.refModel.map { .string($0.path) } ?? .null),
            ("ref_adapters", options.refAdapters.map { .string($0.path) } ?? .null),
        ]
    }
}
