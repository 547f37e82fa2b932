import Foundation

/// `--loss_type` of GRPO: how the per-token losses of a micro-batch are normalised (TRL's `GRPOTrainer._compute_loss`).
public enum GRPOLossType: String, Sendable, CaseIterable, Codable {
    /// Each completion's mean over its tokens, then the mean over completions (the paper's; length-biased).
    case grpo
    /// The sum over every completion token of the micro-batch / its token count.
    case bnpo
    /// Dr. GRPO: the sum / (completions × `max_completion_length`), a constant normaliser.
    case drGRPO = "dr_grpo"
    /// DAPO: the sum / the completion tokens of the whole generation batch (all micro-batches of the step).
    case dapo
    /// CISPO: `−min(ρ, ε_high)·A·log π` with the clipped ratio detached (MiniMax-M1); normalised as dapo.
    case cispo
    /// SAPO: a soft gate `σ(τ(ρ − 1))·4/τ` instead of the hard clip, τ by the advantage's sign; normalised as grpo.
    case sapo
}

/// `--importance_sampling_level`: the ratio π/π_old per token (GRPO) or one per completion, the geometric mean of its
/// tokens' ratios (GSPO).
public enum ImportanceSamplingLevel: String, Sendable, CaseIterable, Codable {
    case token, sequence
}

/// `--scale_rewards`: what the centred rewards are divided by: the group's standard deviation, the whole generation
/// batch's, or nothing (Dr. GRPO).
public enum RewardScaling: String, Sendable, CaseIterable, Codable {
    case group, batch, none

    /// ms-swift / TRL also take `true` (group) and `false` (none).
    public static func parse(_ text: String) throws(TrainingError) -> RewardScaling {
        switch text.lowercased() {
        case "true": return .group
        case "false": return .none
        default:
            guard let value = RewardScaling(rawValue: text.lowercased()) else {
                throw .invalidArgument(flag: "scale_rewards", value: text, expected: "group, batch or none (true = group, false = none)")
            }
            return value
        }
    }
}

/// `--advantage_estimator`: how a completion's advantage comes from its group's rewards (ms-swift's
/// `_compute_advantages`). All three are group-relative: each needs at least two completions per prompt.
public enum AdvantageEstimator: String, Sendable, CaseIterable, Codable {
    /// `r − mean(group)`, divided by the rewards' std of `--scale_rewards` (the group's or the batch's).
    case grpo
    /// REINFORCE Leave-One-Out: `r − mean(the group's other rewards)` (= `G/(G−1)·(r − mean)`), scaled as grpo.
    case rloo
    /// REINFORCE++ baseline: `r − mean(group)`, divided by the std of those centred values (over the group, or the
    /// whole batch with `--scale_rewards batch`, ms-swift's recommendation).
    case reinforcePlusPlus = "reinforce_plus_plus"

    /// ms-swift's `kl_in_reward` default: the KL moves into the reward for rloo and reinforce++.
    public var klInRewardByDefault: Bool { self != .grpo }
}

/// The loss settings of GRPO and its variants (ms-swift's defaults: β 0.04, ε 0.2, loss `grpo`, token-level ratios).
public struct GRPOLossOptions: Sendable, Equatable {
    /// The weight of the k3 KL estimate to the reference model; 0 runs no reference model.
    public var beta: Double = 0.04
    /// The lower clip: ratios below `1 − epsilon` are clipped (PPO's ε).
    public var epsilon: Double = 0.2
    /// The upper clip (DAPO's clip-higher); nil: `epsilon`.
    public var epsilonHigh: Double?
    public var lossType: GRPOLossType = .grpo
    public var importanceSamplingLevel: ImportanceSamplingLevel = .token
    /// Dr. GRPO's constant normaliser (the completion budget).
    public var maxCompletionLength: Int = 512
    /// TRL 1.16's `use_bias_correction_kl` (its default; ms-swift has no such term): the KL estimate is multiplied by
    /// the importance ratio, which changes its gradient even on-policy (DeepSeek-V3.2's unbiased reverse-KL gradient).
    public var klBiasCorrection = false
    /// SAPO's gate temperatures for positive and negative advantages (TRL's defaults).
    public var sapoTemperaturePos: Double = 1.0
    public var sapoTemperatureNeg: Double = 1.05

    public init() {}

    public var resolvedEpsilonHigh: Double { epsilonHigh ?? epsilon }

    public func validate() throws(TrainingError) {
        guard beta >= 0, beta.isFinite else { throw .invalidArgument(flag: "beta", value: "\(beta)", expected: "a number ≥ 0 (0: no reference model)") }
        guard epsilon > 0, epsilon < 1 else {
            throw .invalidArgument(flag: "epsilon", value: "\(epsilon)", expected: "a number in (0, 1) (default 0.2)")
        }
        if let epsilonHigh, !(epsilonHigh > 0 && epsilonHigh.isFinite) {
            throw .invalidArgument(flag: "epsilon_high", value: "\(epsilonHigh)", expected: "a positive number (DAPO uses 0.28)")
        }
        guard maxCompletionLength >= 1 else {
            throw .invalidArgument(flag: "max_completion_length", value: "\(maxCompletionLength)", expected: "a positive integer")
        }
    }
}

/// The per-token inputs of GRPO's loss for one completion: the policy's log-probabilities of its tokens (at the
/// sampling temperature), those of the policy that sampled it (nil: the current policy, detached, ratio 1) and of the
/// reference model (needed when β > 0), and its advantage.
public struct GRPOCompletionScores: Sendable, Equatable {
    public var logps: [Double]
    public var oldLogps: [Double]?
    public var refLogps: [Double]?
    public var advantage: Double
    /// false: the completion carries no loss (`--overlong_filter` on a truncated one); it still counts as a row.
    public var inLoss: Bool

    public init(logps: [Double], oldLogps: [Double]? = nil, refLogps: [Double]? = nil, advantage: Double,
                inLoss: Bool = true) {
        self.logps = logps
        self.oldLogps = oldLogps
        self.refLogps = refLogps
        self.advantage = advantage
        self.inLoss = inLoss
    }
}

/// The loss of one micro-batch, `∂loss/∂ log π(token)` for every completion token, and TRL's metrics.
public struct GRPOLossResult: Sendable {
    public var loss: Double
    /// Per completion, per token.
    public var tokenDerivatives: [[Double]]
    /// `kl` (β > 0), `clip_ratio/low_mean`, `clip_ratio/low_min`, `clip_ratio/high_mean`, `clip_ratio/high_max`,
    /// `clip_ratio/region_mean`.
    public var metrics: [(key: String, value: Double)]
}

/// The group-relative advantages of a generation batch and TRL's reward metrics.
public struct GRPOAdvantages: Sendable, Equatable {
    public var advantages: [Double]
    /// `reward` (the mean reward), `reward_std` (the standard deviation of all rewards), `frac_reward_zero_std` (the
    /// share of completions whose scaling standard deviation is 0).
    public var reward: Double
    public var rewardStd: Double
    public var fracRewardZeroStd: Double
    /// Per group: whether all its rewards are (close to) equal (DAPO's dynamic sampling drops those groups).
    public var groupHasZeroStd: [Bool]
}

/// GRPO's math as TRL's `GRPOTrainer` computes it (`_generate_and_score_completions` for the advantages,
/// `_compute_loss` for the loss), on host numbers: the objective feeds it the per-token log-probabilities of a
/// forward pass and hands the derivatives to the backward pass.
public enum GRPOLoss {
    /// The unbiased standard deviation (torch's `std`); NaN for one value, as torch.
    static func std(_ values: ArraySlice<Double>) -> Double {
        guard values.count > 1 else { return .nan }
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
    }

    /// torch.isclose(x, 0) with its default tolerances.
    static func isCloseToZero(_ x: Double) -> Bool { abs(x) <= 1e-8 }

    /// Advantages of `rewards` laid out group after group (`groupSize` completions of one prompt each): the
    /// estimator's baseline subtracted (the group mean; rloo: the mean of the group's other rewards), divided by
    /// `std + 1e-4` where `scaling` asks: the std of the group's (`group`) or the batch's (`batch`) rewards — for
    /// reinforce++ the std of the centred rewards instead — or nothing (`none`).
    ///
    /// `frac_reward_zero_std` counts completions whose scaling std is 0 (the group's rewards' with `none`).
    public static func advantages(rewards: [Double], groupSize: Int, scaling: RewardScaling,
                                  estimator: AdvantageEstimator = .grpo) -> GRPOAdvantages {
        let groups = groupSize > 0 ? rewards.count / groupSize : 0
        var centred: [Double] = [], groupStds: [Double] = [], zero: [Bool] = []
        for g in 0..<groups {
            let slice = rewards[(g * groupSize)..<((g + 1) * groupSize)]
            let sum = slice.reduce(0, +)
            let mean = sum / Double(groupSize)
            let groupStd = std(slice)
            zero.append(isCloseToZero(groupStd))
            for r in slice {
                switch estimator {
                case .rloo: centred.append(r - (sum - r) / Double(max(groupSize - 1, 1)))
                case .grpo, .reinforcePlusPlus: centred.append(r - mean)
                }
                groupStds.append(groupStd)
            }
        }
        // The std each completion is divided by.
        var stds: [Double]
        switch (estimator, scaling) {
        case (.reinforcePlusPlus, .batch):
            stds = Array(repeating: std(centred[...]), count: centred.count)
        case (.reinforcePlusPlus, _):
            stds = (0..<centred.count).map { i in
                let g = i / groupSize
                return std(centred[(g * groupSize)..<((g + 1) * groupSize)])
            }
        case (_, .batch):
            stds = Array(repeating: std(rewards[...]), count: centred.count)
        default:
            stds = groupStds
        }
        if scaling == .none { stds = groupStds }
        let advantages = zip(centred, stds).map { scaling == .none ? $0 : $0 / ($1 + 1e-4) }
        func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
        return GRPOAdvantages(advantages: advantages, reward: mean(rewards), rewardStd: std(rewards[...]),
                              fracRewardZeroStd: mean(stds.map { isCloseToZero($0) ? 1 : 0 }), groupHasZeroStd: zero)
    }

    /// TRL's completion metrics of a generation batch: `completions/mean_length`, `min_length`, `max_length`,
    /// `clipped_ratio` (the share that did not end on a stop token) and the `*_terminated_length` of those that did
    /// (0 when none did).
    public static func completionMetrics(lengths: [Int], terminated: [Bool]) -> [(key: String, value: Double)] {
        func stats(_ values: [Int]) -> (Double, Double, Double) {
            let v = values.isEmpty ? [0] : values
            return (Double(v.reduce(0, +)) / Double(v.count), Double(v.min() ?? 0), Double(v.max() ?? 0))
        }
        let all = stats(lengths)
        let ended = stats(zip(lengths, terminated).filter(\.1).map(\.0))
        let clipped = Double(terminated.filter { !$0 }.count) / Double(max(terminated.count, 1))
        return [("completions/mean_length", all.0), ("completions/min_length", all.1), ("completions/max_length", all.2),
                ("completions/clipped_ratio", clipped), ("completions/mean_terminated_length", ended.0),
                ("completions/min_terminated_length", ended.1), ("completions/max_terminated_length", ended.2)]
    }

    /// Per reward function `rewards/<name>/mean` and `rewards/<name>/std` (over the batch), as TRL logs them.
    public static func rewardFunctionMetrics(names: [String], perFunction: [[Double]]) -> [(key: String, value: Double)] {
        zip(names, perFunction).flatMap { name, values -> [(key: String, value: Double)] in
            [("rewards/\(name)/mean", values.reduce(0, +) / Double(max(values.count, 1))),
             ("rewards/\(name)/std", std(values[...]))]
        }
    }

    /// The loss of one micro-batch of completions.
    ///
    /// - Parameters:
    ///   - gradientAccumulationSteps: the micro-batches of the step (grpo, bnpo and dr_grpo divide by it).
    ///   - itemsInBatch: the completion tokens per optimizer step (dapo's and cispo's normaliser): the generation
    ///     batch's, divided by the optimizer steps it serves per pass with `steps_per_generation`.
    public static func loss(_ completions: [GRPOCompletionScores], options: GRPOLossOptions,
                            gradientAccumulationSteps: Int = 1, itemsInBatch: Double? = nil) -> GRPOLossResult {
        let low = 1 - options.epsilon, high = 1 + options.resolvedEpsilonHigh
        let beta = options.beta
        let n = completions.count
        let masked = completions.map { $0.inLoss ? $0.logps.count : 0 }
        let totalTokens = masked.reduce(0, +)
        let gas = Double(max(gradientAccumulationSteps, 1))
        /// ∂loss/∂(per-token loss) of completion i.
        func tokenWeight(_ i: Int) -> Double {
            guard completions[i].inLoss else { return 0 }
            let length = Double(max(masked[i], 1))
            switch options.lossType {
            case .grpo, .sapo: return 1 / (length * Double(n)) / gas
            case .bnpo: return 1 / Double(max(totalTokens, 1)) / gas
            case .drGRPO: return 1 / (Double(n) * Double(options.maxCompletionLength)) / gas
            case .dapo, .cispo: return 1 / max(itemsInBatch ?? Double(totalTokens), 1)
            }
        }
        var loss = 0.0, klSum = 0.0
        var clipped = (low: 0.0, high: 0.0, region: 0.0, cispo: 0.0)
        var lowPerSequence: [Double] = [], highPerSequence: [Double] = []
        var derivatives: [[Double]] = []
        for (i, c) in completions.enumerated() {
            let length = c.logps.count
            let old = c.oldLogps ?? c.logps
            let weight = tokenWeight(i)
            let a = c.advantage
            let tokenMask = c.inLoss ? 1.0 : 0.0
            var d = [Double](repeating: 0, count: length)
            /// The per-token policy loss as a function of the ratio ρ and log π, with ∂/∂ρ and ∂/∂ log π (torch's
            /// min: on a tie each side gets half; clamp passes the gradient inside its bounds, bounds included).
            func policyLoss(_ ratio: Double, _ logp: Double) -> (value: Double, dRatio: Double, dLogp: Double) {
                switch options.lossType {
                case .cispo:
                    return (-min(ratio, options.resolvedEpsilonHigh) * a * logp, 0, -min(ratio, options.resolvedEpsilonHigh) * a)
                case .sapo:
                    let tau = a > 0 ? options.sapoTemperaturePos : options.sapoTemperatureNeg
                    let gate = DualMath.sigmoid(tau * (ratio - 1))
                    return (-gate * 4 / tau * a, -a * 4 * gate * (1 - gate), 0)
                default:
                    let clippedRatio = min(max(ratio, low), high)
                    let unclippedTerm = ratio * a, clippedTerm = clippedRatio * a
                    let clampPasses = ratio >= low && ratio <= high ? 1.0 : 0.0
                    if unclippedTerm < clippedTerm { return (-unclippedTerm, -a, 0) }
                    if unclippedTerm > clippedTerm { return (-clippedTerm, -a * clampPasses, 0) }
                    return (-unclippedTerm, -a * (1 + clampPasses) / 2, 0)
                }
            }
            func flags(_ ratio: Double) -> (low: Double, high: Double) {
                (ratio < low && a < 0 ? 1 : 0, ratio > high && a > 0 ? 1 : 0)
            }
            var lowCount = 0.0, highCount = 0.0
            switch options.importanceSamplingLevel {
            case .token:
                for t in 0..<length {
                    let ratio = Foundation.exp(c.logps[t] - old[t])
                    let (value, dRatio, dLogp) = policyLoss(ratio, c.logps[t])
                    loss += weight * value
                    d[t] += weight * (dRatio * ratio + dLogp)
                    let f = flags(ratio)
                    lowCount += f.low * tokenMask
                    highCount += f.high * tokenMask
                    clipped.region += max(f.low, f.high) * tokenMask
                    if options.lossType == .cispo && ratio > options.resolvedEpsilonHigh && a > 0 { clipped.cispo += tokenMask }
                }
                if c.inLoss && length > 0 {
                    lowPerSequence.append(lowCount / Double(length))
                    highPerSequence.append(highCount / Double(length))
                }
            case .sequence:
                // One ratio per completion: the exp of its tokens' mean log-ratio; each token's loss depends on every
                // token through it.
                let meanLogRatio = c.inLoss ? (0..<length).reduce(0.0) { $0 + c.logps[$1] - old[$1] } / Double(max(length, 1)) : 0
                let ratio = Foundation.exp(meanLogRatio)
                var dRatioSum = 0.0
                for t in 0..<length {
                    let (value, dRatio, dLogp) = policyLoss(ratio, c.logps[t])
                    loss += weight * value
                    d[t] += weight * dLogp
                    dRatioSum += weight * dRatio
                }
                for t in 0..<length { d[t] += dRatioSum * ratio / Double(max(length, 1)) }
                let f = flags(ratio)
                lowCount = f.low
                highCount = f.high
                clipped.region += max(f.low, f.high)
                if options.lossType == .cispo && ratio > options.resolvedEpsilonHigh && a > 0 { clipped.cispo += 1 }
                lowPerSequence.append(f.low)
                highPerSequence.append(f.high)
            }
            clipped.low += lowCount
            clipped.high += highCount
            if beta != 0, let ref = c.refLogps {
                // With the bias correction the per-token KL is k3 · ρ (ρ per token, or the completion's ratio).
                let sequenceRatio = Foundation.exp((0..<length).reduce(0.0) { $0 + c.logps[$1] - old[$1] } / Double(max(length, 1)))
                var correctionSum = 0.0
                for t in 0..<length {
                    let x = ref[t] - c.logps[t]
                    let k3 = Foundation.exp(x) - x - 1, dk3 = 1 - Foundation.exp(x)
                    guard options.klBiasCorrection else {
                        loss += weight * beta * k3
                        d[t] += weight * beta * dk3
                        klSum += k3 * tokenMask
                        continue
                    }
                    let ratio = options.importanceSamplingLevel == .token ? Foundation.exp(c.logps[t] - old[t]) : sequenceRatio
                    loss += weight * beta * k3 * ratio
                    d[t] += weight * beta * dk3 * ratio
                    if options.importanceSamplingLevel == .token {
                        d[t] += weight * beta * k3 * ratio
                    } else {
                        correctionSum += weight * beta * k3 * ratio
                    }
                    klSum += k3 * ratio * tokenMask
                }
                if c.inLoss && options.importanceSamplingLevel == .sequence {
                    for t in 0..<length { d[t] += correctionSum / Double(max(length, 1)) }
                }
            }
            derivatives.append(d)
        }
        // TRL's global_masked_mean: over the completion tokens in the loss, or over completions for sequence-level
        // values; low_min / high_max: the extreme of the per-completion means.
        let count = options.importanceSamplingLevel == .sequence ? Double(max(n, 1)) : Double(max(totalTokens, 1))
        var metrics: [(key: String, value: Double)] = []
        if beta != 0 { metrics.append(("kl", klSum / Double(max(totalTokens, 1)))) }
        switch options.lossType {
        case .cispo: metrics.append(("cispo_clip_ratio", clipped.cispo / count))
        case .sapo: break
        default:
            metrics += [("clip_ratio/low_mean", clipped.low / count), ("clip_ratio/high_mean", clipped.high / count),
                        ("clip_ratio/region_mean", clipped.region / count),
                        ("clip_ratio/low_min", lowPerSequence.min() ?? .nan),
                        ("clip_ratio/high_max", highPerSequence.max() ?? .nan)]
        }
        return GRPOLossResult(loss: loss, tokenDerivatives: derivatives, metrics: metrics)
    }
}
