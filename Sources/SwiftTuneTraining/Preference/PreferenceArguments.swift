/// `--rlhf_type`: which preference objective `swift-tune rlhf` trains (ms-swift's names).
public enum RLHFType: String, Sendable, CaseIterable, Codable {
    case dpo, kto, cpo, simpo, orpo, rm

    /// Whether the objective compares the policy with a reference model (DPO, KTO); CPO, SimPO, ORPO and reward
    /// modelling never compute one.
    public var needsReference: Bool { self == .dpo || self == .kto }

    /// ms-swift's `--beta` default: 2.0 for SimPO, 0.1 otherwise.
    public var defaultBeta: Double { self == .simpo ? 2.0 : 0.1 }

    /// `--rlhf_type` text → type; the RL types of later issues are refused with what exists today.
    public static func parse(_ text: String) throws(TrainingError) -> RLHFType {
        let value = text.lowercased()
        if let type = RLHFType(rawValue: value) { return type }
        if value == "grpo" {
            throw .invalidArgument(flag: "rlhf_type", value: text, expected: "one of \(allCases.map(\.rawValue).joined(separator: ", ")) "
                + "for preference training (grpo runs through GRPO.run)")
        }
        if ["ppo", "gkd"].contains(value) {
            throw .invalidArgument(flag: "rlhf_type", value: text, expected: "one of \(allCases.map(\.rawValue).joined(separator: ", ")) "
                + "(\(value) is not yet supported: online RL with rollouts is a later issue)")
        }
        throw .invalidArgument(flag: "rlhf_type", value: text, expected: "one of \(allCases.map(\.rawValue).joined(separator: ", "))")
    }
}

/// `--loss_type` of DPO, in ms-swift's (TRL 0.2x's) spelling; the formulas are TRL 1.16's `DPOTrainer._compute_loss`.
/// `aot` is the unpaired sorting loss (TRL 1.x: `aot_unpaired`), `aot_pair` the paired one (TRL 1.x: `aot`); `sft` is
/// the NLL of the chosen answers (what `--rpo_alpha` adds).
public enum DPOLossType: String, Sendable, CaseIterable, Codable {
    case sigmoid, hinge, ipo, robust
    case bcoPair = "bco_pair", sppoHard = "sppo_hard", ncaPair = "nca_pair"
    case aot, aotPair = "aot_pair", apoZero = "apo_zero", apoDown = "apo_down", exoPair = "exo_pair"
    case discopop, sigmoidNorm = "sigmoid_norm", sft

    /// Parses one name; TRL 1.x's `aot_unpaired` is accepted for `aot`.
    public static func parse(_ text: String) throws(TrainingError) -> DPOLossType {
        if text == "aot_unpaired" { return .aot }
        guard let type = DPOLossType(rawValue: text) else {
            throw .invalidArgument(flag: "loss_type", value: text, expected: "one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return type
    }
}

/// `--loss_type` of CPO and SimPO (TRL's CPOTrainer).
public enum CPOLossType: String, Sendable, CaseIterable, Codable {
    case sigmoid, hinge, ipo, simpo
}

/// The preference-training flags of `swift-tune rlhf`, with ms-swift's defaults (its `RLHFArguments` over TRL's
/// configs): `beta` 0.1 (2.0 for SimPO), `loss_type` sigmoid, `label_smoothing` 0, `rpo_alpha` off, `cpo_alpha` 1
/// (SimPO included: ms-swift runs SimPO as CPOTrainer with `loss_type simpo`, which keeps the NLL term; pass
/// `--cpo_alpha 0` for the paper's pure SimPO), `simpo_gamma` 1, `desirable_weight`/`undesirable_weight` 1,
/// `discopop_tau` 0.05.
public struct PreferenceOptions: Sendable, Equatable {
    public var rlhfType: RLHFType = .dpo
    /// nil → `rlhfType.defaultBeta`.
    public var beta: Double?
    /// DPO: one or several losses (summed with `lossWeights`); CPO/SimPO: the first one as a `CPOLossType`.
    public var lossTypes: [String] = []
    public var lossWeights: [Double]?
    public var labelSmoothing: Double = 0
    /// DPO: adds `rpo_alpha ×` the NLL of the chosen answers (RPO); nil or 0 is off.
    public var rpoAlpha: Double?
    /// DPO: the reference log-probabilities are 0 (no reference model).
    public var referenceFree = false
    /// DPO/KTO: one pass over the training set before training computes the reference log-probabilities, so a step
    /// needs no reference forward pass (always on for full fine-tuning, which keeps no frozen copy).
    public var precomputeRefLogProbs = false
    public var simpoGamma: Double = 1
    /// CPO/SimPO: the weight of the chosen answers' NLL (nil → 1, ms-swift's default for both).
    public var cpoAlpha: Double?
    public var desirableWeight: Double = 1
    public var undesirableWeight: Double = 1
    /// rm: adds `c · mean((r_chosen + r_rejected)²)`.
    public var centerRewardsCoefficient: Double?
    public var discopopTau: Double = 0.05
    /// Tokens of an answer kept (the prompt is cut from the left first when the row is too long); nil keeps all.
    public var maxCompletionLength: Int?

    public init(rlhfType: RLHFType = .dpo) { self.rlhfType = rlhfType }

    public var resolvedBeta: Double { beta ?? rlhfType.defaultBeta }
    public var resolvedCPOAlpha: Double { cpoAlpha ?? 1 }

    /// The DPO losses and their weights, `--rpo_alpha` folded in as a weighted `sft` term.
    public func dpoLosses() throws(TrainingError) -> [(type: DPOLossType, weight: Double)] {
        let types = try (lossTypes.isEmpty ? ["sigmoid"] : lossTypes).map { (t: String) throws(TrainingError) in try DPOLossType.parse(t) }
        let weights = lossWeights ?? Array(repeating: 1, count: types.count)
        guard weights.count == types.count else {
            throw .invalidArgument(flag: "loss_weights", value: "\(weights.count) values",
                                   expected: "one weight per --loss_type (\(types.count): \(types.map(\.rawValue).joined(separator: " ")))")
        }
        var out = Array(zip(types, weights)).map { (type: $0.0, weight: $0.1) }
        if let rpoAlpha, rpoAlpha != 0 { out.append((.sft, rpoAlpha)) }
        return out
    }

    /// The CPO/SimPO loss type (SimPO forces `simpo`).
    public func cpoLoss() throws(TrainingError) -> CPOLossType {
        if rlhfType == .simpo { return .simpo }
        let text = lossTypes.first ?? "sigmoid"
        guard let type = CPOLossType(rawValue: text) else {
            throw .invalidArgument(flag: "loss_type", value: text, expected: "for cpo one of \(CPOLossType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return type
    }

    /// Checks ranges and combinations, naming the flag.
    public func validate() throws(TrainingError) {
        let beta = resolvedBeta
        guard beta > 0, beta.isFinite else { throw .invalidArgument(flag: "beta", value: "\(beta)", expected: "a positive number") }
        guard (0..<0.5).contains(labelSmoothing) else {
            throw .invalidArgument(flag: "label_smoothing", value: "\(labelSmoothing)", expected: "a number in [0, 0.5)")
        }
        for (flag, value) in [("desirable_weight", desirableWeight), ("undesirable_weight", undesirableWeight)] where !(value > 0) {
            throw .invalidArgument(flag: flag, value: "\(value)", expected: "a positive number")
        }
        guard discopopTau > 0, discopopTau.isFinite else {
            throw .invalidArgument(flag: "discopop_tau", value: "\(discopopTau)", expected: "a positive number (default 0.05)")
        }
        if let maxCompletionLength, maxCompletionLength < 1 {
            throw .invalidArgument(flag: "max_completion_length", value: "\(maxCompletionLength)", expected: "a positive integer")
        }
        switch rlhfType {
        case .dpo:
            let losses = try dpoLosses()
            if losses.contains(where: { $0.type == .exoPair }) && labelSmoothing <= 0 {
                throw .invalidArgument(flag: "label_smoothing", value: "\(labelSmoothing)",
                                       expected: "a positive ε with --loss_type exo_pair (its target distribution is [1 - ε, ε]; try 1e-3)")
            }
        case .cpo, .simpo: _ = try cpoLoss()
        case .kto, .orpo, .rm:
            if !lossTypes.isEmpty && lossTypes != [rlhfType == .kto ? "kto" : "sigmoid"] {
                throw .invalidArgument(flag: "loss_type", value: lossTypes.joined(separator: " "),
                                       expected: "no --loss_type with --rlhf_type \(rlhfType.rawValue) (it has one loss)")
            }
        }
        if referenceFree && !rlhfType.needsReference {
            throw .conflictingArguments("reference_free", "rlhf_type \(rlhfType.rawValue)",
                                        hint: "\(rlhfType.rawValue) never uses a reference model")
        }
    }
}
