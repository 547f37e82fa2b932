import ArgumentParser
import Foundation
import SwiftTuneTraining

/// `swift-tune rlhf`: preference training (DPO and its loss variants, KTO, CPO, SimPO, ORPO) and reward models, with
/// ms-swift's flags.
struct RLHFCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rlhf",
        abstract: "Preference training: DPO (and its loss variants), KTO, CPO, SimPO, ORPO, reward models (rm); online RL: GRPO.",
        discussion: """
            Every sft flag applies (LoRA or full; not --packing). Rows: messages + rejected_response, messages + \
            rejected_messages, chosen/rejected (message lists, ShareGPT objects after conversations, or whole \
            transcripts with a shared prompt); KTO: messages + label (true/false). LoRA runs use the base with the \
            adapter off as the reference; full runs precompute the reference before training.
            Example: swift-tune rlhf --rlhf_type dpo --model path/to/model --dataset dpo.json#300 --beta 0.1
            GRPO (and DAPO, GSPO, Dr. GRPO, CISPO, SAPO through --loss_type / --importance_sampling_level / \
            --epsilon_high / --scale_rewards / --dynamic_sample): rows are prompts (messages, or query) plus the \
            columns the rewards read (accuracy: solution or answer); --per_device_train_batch_size counts \
            completions, a multiple of --num_generations. Sampling runs on the in-process engine on the policy.
            Example: swift-tune rlhf --rlhf_type grpo --model M --dataset math.jsonl --reward_funcs accuracy format \
            --num_generations 8 --per_device_train_batch_size 8 --max_completion_length 256
            """)

    @OptionGroup var flags: TrainFlags
    @OptionGroup var preference: PreferenceFlags
    @OptionGroup var grpo: GRPOFlags

    func run() async throws {
        let runner = TrainCommandRunner(flags: flags, pretraining: false)
        if preference.rlhfType.lowercased() == "grpo" {
            try await runGRPO(runner)
            return
        }
        if let given = grpo.givenFlags.first {
            throw TrainingError.conflictingArguments(given, "rlhf_type \(preference.rlhfType)", hint: "--\(given) applies to --rlhf_type grpo")
        }
        var options = RLHFOptions(training: try await runner.sftOptions(), preference: try preference.options())
        if let refModel = preference.refModel { options.refModel = try await flags.hub.resolveModel(refModel) }
        options.refAdapters = preference.refAdapters.map { URL(fileURLWithPath: $0) }
        let backend = try flags.model.backend()
        let stop = StopSignal()
        defer { stop.cancel() }
        let progress = ConsoleTrainingObserver()
        let result = try RLHF.run(options, backend: backend, stop: stop, observer: progress) { print($0) }
        progress.finish()
        TrainCommandRunner.printSummary(result)
    }
}

extension RLHFCommand {
    func runGRPO(_ runner: TrainCommandRunner) async throws {
        var options = try grpo.options(preference: preference, training: try await runner.sftOptions())
        if let refModel = preference.refModel { options.refModel = try await flags.hub.resolveModel(refModel) }
        if grpo.useVLLM == true || grpo.vllmMode != nil {
            print("--use_vllm / --vllm_mode: sampling runs on swift-tune's in-process engine on the policy's own weights")
        }
        let backend = try flags.model.backend()
        let stop = StopSignal()
        defer { stop.cancel() }
        let progress = ConsoleTrainingObserver()
        let result = try GRPO.run(options, backend: backend, stop: stop, observer: progress) { print($0) }
        progress.finish()
        TrainCommandRunner.printSummary(result)
    }
}

/// The preference flags of `rlhf` (ms-swift's names and defaults).
struct PreferenceFlags: ParsableArguments {
    @Option(name: flag("rlhf_type"), help: "dpo, kto, cpo, simpo, orpo, rm or grpo (default dpo).")
    var rlhfType: String = "dpo"
    @Option(name: flag("beta"), help: "The preference temperature (default 0.1; 2.0 for simpo); grpo: the KL weight (default 0.04; 0: no reference).")
    var beta: Double?
    @Option(name: flag("loss_type"), parsing: .upToNextOption, help: ArgumentHelp(
        "DPO: one or several of \(DPOLossType.allCases.map(\.rawValue).joined(separator: ", ")) (default sigmoid); "
            + "CPO: sigmoid, hinge, ipo, simpo; GRPO: \(GRPOLossType.allCases.map(\.rawValue).joined(separator: ", ")) (default grpo)."))
    var lossType: [String] = []
    @Option(name: flag("loss_weights"), parsing: .upToNextOption, help: "One weight per --loss_type (default 1 each).")
    var lossWeights: [Double] = []
    @Option(name: flag("label_smoothing"), help: "Label noise ε for robust, aot, exo_pair, cpo (default 0).")
    var labelSmoothing: Double?
    @Option(name: flag("discopop_tau"), help: "DiscoPOP's temperature τ (--loss_type discopop; default 0.05).")
    var discopopTau: Double?
    @Option(name: flag("rpo_alpha"), help: "Adds rpo_alpha × the NLL of the chosen answers to DPO (default off).")
    var rpoAlpha: Double?
    @Option(name: flag("reference_free"), help: "DPO without a reference model (log π_ref = 0; default false).")
    var referenceFree: Bool?
    @Option(name: flag("precompute_ref_log_probs"), help: "Compute the reference log-probabilities once before training (default false).")
    var precomputeRefLogProbs: Bool?
    @Option(name: flag("ref_model"), help: "A separate reference model (default: the base with the adapter disabled).")
    var refModel: String?
    @Option(name: flag("ref_adapters"), help: "A LoRA adapter folder applied to the reference model (--ref_model, else the base).")
    var refAdapters: String?
    @Option(name: flag("simpo_gamma"), help: "SimPO's reward margin γ (default 1).")
    var simpoGamma: Double?
    @Option(name: flag("cpo_alpha"), help: "Weight of the NLL term of CPO/SimPO (default 1; 0 is pure SimPO).")
    var cpoAlpha: Double?
    @Option(name: flag("desirable_weight"), help: "KTO weight of desirable rows (default 1).")
    var desirableWeight: Double?
    @Option(name: flag("undesirable_weight"), help: "KTO weight of undesirable rows (default 1).")
    var undesirableWeight: Double?
    @Option(name: flag("center_rewards_coefficient"), help: "rm: weight of mean((r_chosen + r_rejected)²).")
    var centerRewardsCoefficient: Double?
    @Option(name: flag("max_completion_length"), help: "Keep at most N answer tokens (default: all); grpo: new tokens per completion (default 512).")
    var maxCompletionLength: Int?

    /// The flags that only some types read, and those types: giving one to another type is refused, so a flag is
    /// never silently ignored.
    var typeSpecificFlags: [(flag: String, isSet: Bool, types: [RLHFType])] {
        [("loss_weights", !lossWeights.isEmpty, [.dpo]), ("rpo_alpha", rpoAlpha != nil, [.dpo]),
         ("reference_free", referenceFree != nil, [.dpo]), ("discopop_tau", discopopTau != nil, [.dpo]),
         ("label_smoothing", labelSmoothing != nil, [.dpo, .cpo]),
         ("precompute_ref_log_probs", precomputeRefLogProbs != nil, [.dpo, .kto]),
         ("simpo_gamma", simpoGamma != nil, [.simpo, .cpo]), ("cpo_alpha", cpoAlpha != nil, [.cpo, .simpo]),
         ("desirable_weight", desirableWeight != nil, [.kto]), ("undesirable_weight", undesirableWeight != nil, [.kto]),
         ("center_rewards_coefficient", centerRewardsCoefficient != nil, [.rm]),
         ("max_completion_length", maxCompletionLength != nil, [.dpo, .kto, .cpo, .simpo, .orpo])]
    }

    func options() throws -> PreferenceOptions {
        let type = try RLHFType.parse(rlhfType)
        if let misplaced = typeSpecificFlags.first(where: { $0.isSet && !$0.types.contains(type) }) {
            throw TrainingError.conflictingArguments(
                misplaced.flag, "rlhf_type \(type.rawValue)",
                hint: "--\(misplaced.flag) applies to --rlhf_type \(misplaced.types.map(\.rawValue).joined(separator: " or "))")
        }
        var options = PreferenceOptions(rlhfType: type)
        options.beta = beta
        options.lossTypes = lossType
        options.lossWeights = lossWeights.isEmpty ? nil : lossWeights
        if let labelSmoothing { options.labelSmoothing = labelSmoothing }
        if let discopopTau { options.discopopTau = discopopTau }
        options.rpoAlpha = rpoAlpha
        if let referenceFree { options.referenceFree = referenceFree }
        if let precomputeRefLogProbs { options.precomputeRefLogProbs = precomputeRefLogProbs }
        if let simpoGamma { options.simpoGamma = simpoGamma }
        options.cpoAlpha = cpoAlpha
        if let desirableWeight { options.desirableWeight = desirableWeight }
        if let undesirableWeight { options.undesirableWeight = undesirableWeight }
        options.centerRewardsCoefficient = centerRewardsCoefficient
        options.maxCompletionLength = maxCompletionLength
        try options.validate()
        return options
    }
}
