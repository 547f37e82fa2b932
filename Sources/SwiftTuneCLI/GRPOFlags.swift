import ArgumentParser
import Foundation
import SwiftTuneTraining

/// The GRPO flags of `rlhf --rlhf_type grpo`, in ms-swift's spelling (`--beta`, `--loss_type` and
/// `--max_completion_length` are shared with preference training).
struct GRPOFlags: ParsableArguments {
    @Option(name: flag("num_generations"), help: "GRPO: completions per prompt, G (default 8).")
    var numGenerations: Int?
    @Option(name: flag("temperature"), help: "GRPO: sampling temperature; the loss scores at it too (default 0.9).")
    var temperature: Double?
    @Option(name: flag("top_p"), help: "GRPO: nucleus sampling mass (default 1).")
    var topP: Double?
    @Option(name: flag("top_k"), help: "GRPO: sample from the k most likely tokens (default 50; 0: off).")
    var topK: Int?
    @Option(name: flag("repetition_penalty"), help: "GRPO: sampling repetition penalty (default 1).")
    var repetitionPenalty: Double?
    @Option(name: flag("epsilon"), help: "GRPO: the clip range ε of the ratio (default 0.2).")
    var epsilon: Double?
    @Option(name: flag("epsilon_high"), help: "GRPO: the upper clip (DAPO's clip-higher, e.g. 0.28; default ε).")
    var epsilonHigh: Double?
    @Option(name: flag("importance_sampling_level"), help: "GRPO: token (GRPO) or sequence (GSPO; default token).")
    var importanceSamplingLevel: String?
    @Option(name: flag("scale_rewards"), help: "GRPO: group, batch or none (Dr. GRPO; default group).")
    var scaleRewards: String?
    @Option(name: flag("advantage_estimator"),
            help: "GRPO: grpo (default), rloo (leave-one-out baseline) or reinforce_plus_plus (std of the centred rewards).")
    var advantageEstimator: String?
    @Option(name: flag("kl_in_reward"),
            help: "GRPO: with --beta > 0, subtract β·KL from the reward instead of the loss (default: true for rloo and reinforce_plus_plus).")
    var klInReward: Bool?
    @Option(name: flag("reward_funcs"), parsing: .upToNextOption,
            help: "GRPO: built-in rewards: \(BuiltinRewards.names.joined(separator: ", ")).")
    var rewardFuncs: [String] = []
    @Option(name: flag("reward_weights"), parsing: .upToNextOption, help: "GRPO: one weight per reward (default 1 each).")
    var rewardWeights: [Double] = []
    @Option(name: flag("reward_model"),
            help: "GRPO: a reward model (a checkpoint of rlhf --rlhf_type rm) scoring prompt + completion.")
    var rewardModel: String?
    @Option(name: flag("reward_url"),
            help: "GRPO: a reward server: POST of a JSON list of completions (prompt, completion, row columns), answered by a JSON list of numbers.")
    var rewardURL: String?
    @Option(name: flag("reward_command"),
            help: "GRPO: a user reward \"prog args\": one JSON line per completion on stdin, one number per line on stdout.")
    var rewardCommand: String?
    @Option(name: flag("num_iterations"), help: "GRPO: optimizer steps per generation batch, μ (default 1).")
    var numIterations: Int?
    @Option(name: flag("steps_per_generation"),
            help: "GRPO: micro-batches one generation batch serves, a multiple of --gradient_accumulation_steps (the default).")
    var stepsPerGeneration: Int?
    @Option(name: flag("dynamic_sample"), help: "GRPO: resample groups whose rewards are all equal (DAPO; default false).")
    var dynamicSample: Bool?
    @Option(name: flag("max_resample_times"), help: "GRPO: resampling rounds of --dynamic_sample (default 3).")
    var maxResampleTimes: Int?
    @Option(name: flag("overlong_filter"), help: "GRPO: no loss on completions cut by the length budget (default false).")
    var overlongFilter: Bool?
    @Option(name: flag("log_completions"), help: "GRPO: write every completion to completions.jsonl (default false).")
    var logCompletions: Bool?
    @Option(name: flag("use_bias_correction_kl"), help: "GRPO: TRL's KL × importance ratio (default false, as ms-swift).")
    var useBiasCorrectionKL: Bool?
    @Option(name: flag("sapo_temperature_pos"), help: "GRPO --loss_type sapo: gate temperature for A > 0 (default 1).")
    var sapoTemperaturePos: Double?
    @Option(name: flag("sapo_temperature_neg"), help: "GRPO --loss_type sapo: gate temperature for A < 0 (default 1.05).")
    var sapoTemperatureNeg: Double?
    @Option(name: flag("use_vllm"), help: "GRPO: accepted; sampling always runs on the in-process engine.")
    var useVLLM: Bool?
    @Option(name: flag("vllm_mode"), help: "GRPO: colocate or server; accepted, means the in-process engine.")
    var vllmMode: String?
    @Option(name: flag("cosine_min_len_value_wrong"), help: "cosine reward (default -0.5).") var cosineMinLenValueWrong: Double?
    @Option(name: flag("cosine_max_len_value_wrong"), help: "cosine reward (default 0).") var cosineMaxLenValueWrong: Double?
    @Option(name: flag("cosine_min_len_value_correct"), help: "cosine reward (default 1).") var cosineMinLenValueCorrect: Double?
    @Option(name: flag("cosine_max_len_value_correct"), help: "cosine reward (default 0.5).") var cosineMaxLenValueCorrect: Double?
    @Option(name: flag("cosine_max_len"), help: "cosine reward (default --max_completion_length).") var cosineMaxLen: Int?
    @Option(name: flag("repetition_n_grams"), help: "repetition reward (default 3).") var repetitionNGrams: Int?
    @Option(name: flag("repetition_max_penalty"), help: "repetition reward (default -1).") var repetitionMaxPenalty: Double?
    @Option(name: flag("soft_max_length"), help: "soft_overlong reward (default --max_completion_length).") var softMaxLength: Int?
    @Option(name: flag("soft_cache_length"), help: "soft_overlong reward: the penalty ramp.") var softCacheLength: Int?

    /// The flags given, for refusing them outside GRPO.
    var givenFlags: [String] {
        let values: [(String, Bool)] = [
            ("num_generations", numGenerations != nil), ("temperature", temperature != nil), ("top_p", topP != nil),
            ("top_k", topK != nil), ("repetition_penalty", repetitionPenalty != nil), ("epsilon", epsilon != nil),
            ("epsilon_high", epsilonHigh != nil), ("importance_sampling_level", importanceSamplingLevel != nil),
            ("scale_rewards", scaleRewards != nil), ("advantage_estimator", advantageEstimator != nil),
            ("kl_in_reward", klInReward != nil), ("reward_model", rewardModel != nil), ("reward_url", rewardURL != nil),
            ("reward_funcs", !rewardFuncs.isEmpty), ("reward_weights", !rewardWeights.isEmpty),
            ("reward_command", rewardCommand != nil), ("num_iterations", numIterations != nil),
            ("steps_per_generation", stepsPerGeneration != nil), ("dynamic_sample", dynamicSample != nil),
            ("max_resample_times", maxResampleTimes != nil), ("overlong_filter", overlongFilter != nil),
            ("log_completions", logCompletions != nil), ("use_bias_correction_kl", useBiasCorrectionKL != nil),
            ("sapo_temperature_pos", sapoTemperaturePos != nil), ("sapo_temperature_neg", sapoTemperatureNeg != nil),
            ("use_vllm", useVLLM != nil), ("vllm_mode", vllmMode != nil),
            ("cosine_max_len", cosineMaxLen != nil), ("soft_cache_length", softCacheLength != nil),
        ]
        return values.filter(\.1).map(\.0)
    }

    func options(preference: PreferenceFlags, training: SFTOptions) throws -> GRPORunOptions {
        let misplaced = preference.typeSpecificFlags.filter { $0.isSet && $0.flag != "max_completion_length" }
            + (preference.refAdapters != nil ? [("ref_adapters", true, [])] : [])
        if let first = misplaced.first {
            throw TrainingError.conflictingArguments(first.flag, "rlhf_type grpo", hint: "--\(first.flag) is a preference-training flag")
        }
        var grpo = GRPOOptions()
        if let beta = preference.beta { grpo.loss.beta = beta }
        if let text = preference.lossType.first {
            guard preference.lossType.count == 1, let type = GRPOLossType(rawValue: text) else {
                throw TrainingError.invalidArgument(flag: "loss_type", value: preference.lossType.joined(separator: " "),
                                                    expected: "one of \(GRPOLossType.allCases.map(\.rawValue).joined(separator: ", ")) for grpo")
            }
            grpo.loss.lossType = type
        }
        if let epsilon { grpo.loss.epsilon = epsilon }
        grpo.loss.epsilonHigh = epsilonHigh
        if let text = importanceSamplingLevel {
            guard let level = ImportanceSamplingLevel(rawValue: text) else {
                throw TrainingError.invalidArgument(flag: "importance_sampling_level", value: text, expected: "token or sequence")
            }
            grpo.loss.importanceSamplingLevel = level
        }
        if let useBiasCorrectionKL { grpo.loss.klBiasCorrection = useBiasCorrectionKL }
        if let sapoTemperaturePos { grpo.loss.sapoTemperaturePos = sapoTemperaturePos }
        if let sapoTemperatureNeg { grpo.loss.sapoTemperatureNeg = sapoTemperatureNeg }
        if let numGenerations { grpo.numGenerations = numGenerations }
        if let length = preference.maxCompletionLength { grpo.maxCompletionLength = length }
        grpo.loss.maxCompletionLength = grpo.maxCompletionLength
        if let temperature { grpo.temperature = temperature }
        if let topP { grpo.topP = topP }
        if let topK { grpo.topK = topK }
        if let repetitionPenalty { grpo.repetitionPenalty = repetitionPenalty }
        if let scaleRewards { grpo.scaleRewards = try RewardScaling.parse(scaleRewards) }
        if let text = advantageEstimator {
            guard let estimator = AdvantageEstimator(rawValue: text) else {
                throw TrainingError.invalidArgument(flag: "advantage_estimator", value: text,
                                                    expected: AdvantageEstimator.allCases.map(\.rawValue).joined(separator: ", "))
            }
            grpo.advantageEstimator = estimator
        }
        grpo.klInReward = klInReward
        grpo.rewardWeights = rewardWeights.isEmpty ? nil : rewardWeights
        if let numIterations { grpo.numIterations = numIterations }
        grpo.stepsPerGeneration = stepsPerGeneration
        if let dynamicSample { grpo.dynamicSample = dynamicSample }
        if let maxResampleTimes { grpo.maxResampleTimes = maxResampleTimes }
        if let overlongFilter { grpo.overlongFilter = overlongFilter }
        if let logCompletions { grpo.logCompletions = logCompletions }
        if let vllmMode, !["colocate", "server"].contains(vllmMode) {
            throw TrainingError.invalidArgument(flag: "vllm_mode", value: vllmMode, expected: "colocate or server")
        }
        var settings = RewardSettings()
        if let v = cosineMinLenValueWrong { settings.cosineMinLenValueWrong = v }
        if let v = cosineMaxLenValueWrong { settings.cosineMaxLenValueWrong = v }
        if let v = cosineMinLenValueCorrect { settings.cosineMinLenValueCorrect = v }
        if let v = cosineMaxLenValueCorrect { settings.cosineMaxLenValueCorrect = v }
        settings.cosineMaxLen = cosineMaxLen
        if let v = repetitionNGrams { settings.repetitionNGrams = v }
        if let v = repetitionMaxPenalty { settings.repetitionMaxPenalty = v }
        settings.softMaxLength = softMaxLength
        settings.softCacheLength = softCacheLength
        for name in rewardFuncs where !BuiltinRewards.names.contains(name) {
            throw TrainingError.invalidArgument(flag: "reward_funcs", value: name,
                                                expected: "one of \(BuiltinRewards.names.joined(separator: ", ")) (user rewards: --reward_command \"prog args\")")
        }
        var options = GRPORunOptions(training: training, grpo: grpo, rewardFuncs: rewardFuncs, rewardSettings: settings,
                                     rewardCommand: rewardCommand)
        options.rewardModel = rewardModel.map { URL(fileURLWithPath: $0) }
        if let rewardURL {
            guard let url = URL(string: rewardURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw TrainingError.invalidArgument(flag: "reward_url", value: rewardURL,
                                                    expected: "an http:// or https:// URL (e.g. http://127.0.0.1:8000/reward)")
            }
            options.rewardURL = url
        }
        try options.validate()
        return options
    }
}
