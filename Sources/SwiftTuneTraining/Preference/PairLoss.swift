import Foundation

/// The sequence scores of one micro-batch of preference pairs, on the host: what every pairwise loss is a function of.
public struct PairScores: Sendable, Equatable {
    /// Σ log π(answer tokens) of each pair's chosen / rejected answer under the policy. `[P]`.
    public var chosen: [Double]
    public var rejected: [Double]
    /// Answer tokens of each chosen / rejected answer. `[P]`.
    public var chosenTokens: [Int]
    public var rejectedTokens: [Int]
    /// The same sums under the reference model (nil for reference-free objectives; zeros with `--reference_free`).
    public var referenceChosen: [Double]?
    public var referenceRejected: [Double]?
    /// Σ over the answer tokens of the mean logit (over the vocabulary) of the chosen / rejected answers.
    public var chosenLogitSum: Double = 0
    public var rejectedLogitSum: Double = 0
    /// The NLL's Σ log π and token count when it covers more than the chosen answers (ORPO: the whole chosen
    /// sequence); nil: the chosen answers.
    public var nllSum: Double?
    public var nllTokens: Int?

    public init(chosen: [Double], rejected: [Double], chosenTokens: [Int], rejectedTokens: [Int],
                referenceChosen: [Double]? = nil, referenceRejected: [Double]? = nil) {
        self.chosen = chosen
        self.rejected = rejected
        self.chosenTokens = chosenTokens
        self.rejectedTokens = rejectedTokens
        self.referenceChosen = referenceChosen
        self.referenceRejected = referenceRejected
    }

    public var count: Int { chosen.count }
}

/// A pairwise loss on one micro-batch and its gradient with respect to the sequence log-probabilities.
public struct PairLossResult: Sendable {
    public var loss: Double
    /// ∂loss/∂ Σ log π(chosen_i), ∂loss/∂ Σ log π(rejected_i). `[P]`.
    public var dChosen: [Double]
    public var dRejected: [Double]
    /// ∂loss/∂ log π(t) added for every chosen answer token t (the NLL terms: RPO, CPO's `cpo_alpha`, ORPO).
    public var dChosenToken: Double = 0
    /// TRL's metric names and values for this micro-batch.
    public var metrics: [(key: String, value: Double)] = []
}

/// TRL's pairwise preference losses as pure functions of sequence log-probabilities (TRL 1.16: `DPOTrainer._compute_loss`,
/// `CPOTrainer.cpo_loss` + `get_batch_loss_metrics`, `ORPOTrainer.odds_ratio_loss`), each micro-batch's loss the mean
/// over its pairs. Written over `Dual` so each loss reads like TRL's line and carries its own gradient.
public enum PairLoss {
    typealias M = DualMath

    /// DPO with one or several weighted losses.
    public static func dpo(_ s: PairScores, losses: [(type: DPOLossType, weight: Double)], beta: Double,
                           labelSmoothing ε: Double, discopopTau: Double) -> PairLossResult {
        let n = s.count
        let refC = s.referenceChosen ?? Array(repeating: 0, count: n)
        let refR = s.referenceRejected ?? Array(repeating: 0, count: n)
        var loss = 0.0
        var dC = [Double](repeating: 0, count: n), dR = [Double](repeating: 0, count: n)
        var dToken = 0.0
        let chosenTokenTotal = Double(max(s.chosenTokens.reduce(0, +), 1))
        for (type, weight) in losses {
            let scale = weight / Double(n)  // `per_sequence_loss.mean() * loss_weight`
            func add(_ i: Int, _ value: Dual) {
                loss += scale * value.value
                dC[i] += scale * value.d
                dR[i] += scale * value.r
            }
            switch type {
            case .sft:  // −mean log π over every chosen answer token of the micro-batch
                loss += weight * -s.chosen.reduce(0, +) / chosenTokenTotal
                dToken += weight * -1 / chosenTokenTotal
            case .aot, .aotPair:
                // Sorted over the batch: δ_i = x_(i) − y_(i); the gradient goes back to the pairs that landed at i.
                let x = (0..<n).map { i in type == .aotPair ? s.chosen[i] - s.rejected[i] : s.chosen[i] - refC[i] }
                let y = (0..<n).map { i in type == .aotPair ? refC[i] - refR[i] : s.rejected[i] - refR[i] }
                let xOrder = x.indices.sorted { x[$0] < x[$1] }, yOrder = y.indices.sorted { y[$0] < y[$1] }
                for position in 0..<n {
                    let (xi, yi) = (xOrder[position], yOrder[position])
                    let delta = Dual(x[xi] - y[yi], d: 1, r: 0)  // d: ∂/∂x_(i), folded back below
                    let value = -(1 - ε) * M.logSigmoid(beta * delta) - ε * M.logSigmoid(-(beta * delta))
                    loss += scale * value.value
                    dC[xi] += scale * value.d  // ∂x/∂chosen = 1 for both
                    if type == .aotPair { dR[xi] -= scale * value.d } else { dR[yi] -= scale * value.d }
                }
            default:
                for i in 0..<n {
                    let c = Dual(s.chosen[i], d: 1), r = Dual(s.rejected[i], r: 1)
                    let chosenRatio = c - refC[i], rejectedRatio = r - refR[i]
                    let delta = chosenRatio - rejectedRatio
                    let value: Dual
                    switch type {
                    case .sigmoid: value = -M.logSigmoid(beta * delta)
                    case .hinge: value = M.relu(1 - beta * delta)
                    case .ipo, .sigmoidNorm:
                        let normalized = chosenRatio / Double(max(s.chosenTokens[i], 1))
                            - rejectedRatio / Double(max(s.rejectedTokens[i], 1))
                        value = type == .ipo ? M.square(normalized - 1 / (2 * beta)) : -M.logSigmoid(beta * normalized)
                    case .exoPair:
                        let qw = M.sigmoid(beta * delta), logQw = M.logSigmoid(beta * delta)
                        let ql = M.sigmoid(-(beta * delta)), logQl = M.logSigmoid(-(beta * delta))
                        value = qw * (logQw - log1p(-ε)) + ql * (logQl - log(ε))
                    case .ncaPair:
                        let cr = beta * chosenRatio, rr = beta * rejectedRatio
                        value = -M.logSigmoid(cr) - 0.5 * M.logSigmoid(-cr) - 0.5 * M.logSigmoid(-rr)
                    case .robust:
                        value = (-(1 - ε) * M.logSigmoid(beta * delta) + ε * M.logSigmoid(-(beta * delta))) / (1 - 2 * ε)
                    case .bcoPair:
                        value = -M.logSigmoid(beta * chosenRatio) - M.logSigmoid(-(beta * rejectedRatio))
                    case .sppoHard:
                        value = M.square(chosenRatio - 0.5 / beta) + M.square(rejectedRatio + 0.5 / beta)
                    case .apoZero:
                        value = (1 - M.sigmoid(beta * chosenRatio)) + M.sigmoid(beta * rejectedRatio)
                    case .apoDown:
                        value = M.sigmoid(beta * chosenRatio) + (1 - M.sigmoid(beta * delta))
                    case .discopop:
                        let logits = beta * delta
                        let modulation = M.sigmoid(logits / discopopTau)
                        value = -M.logSigmoid(logits) * (1 - modulation) + M.exp(-logits) * modulation
                    case .sft, .aot, .aotPair: value = Dual(0)  // handled above
                    }
                    add(i, value)
                }
            }
        }
        var result = PairLossResult(loss: loss, dChosen: dC, dRejected: dR, dChosenToken: dToken)
        let chosenRewards = (0..<n).map { beta * (s.chosen[$0] - refC[$0]) }
        let rejectedRewards = (0..<n).map { beta * (s.rejected[$0] - refR[$0]) }
        result.metrics = rewardMetrics(chosenRewards, rejectedRewards, s)
        if let sft = losses.first(where: { $0.type == .sft }), sft.weight != 0 {
            result.metrics.append(("nll_loss", -s.chosen.reduce(0, +) / chosenTokenTotal))
        }
        return result
    }

    /// CPO and SimPO (TRL's CPOTrainer): `logits = log π(c) − log π(r)` (per-token means for ipo and simpo), the loss
    /// of `lossType`, plus `cpoAlpha ×` the NLL of the chosen answers.
    public static func cpo(_ s: PairScores, lossType: CPOLossType, beta: Double, labelSmoothing ε: Double,
                           simpoGamma: Double, cpoAlpha: Double) -> PairLossResult {
        let n = s.count
        let average = lossType == .ipo || lossType == .simpo
        var loss = 0.0
        var dC = [Double](repeating: 0, count: n), dR = [Double](repeating: 0, count: n)
        var chosenLogps: [Double] = [], rejectedLogps: [Double] = []
        for i in 0..<n {
            let (c, r) = sides(s, i, average: average)
            chosenLogps.append(c.value)
            rejectedLogps.append(r.value)
            var logits = c - r
            let value: Dual
            switch lossType {
            case .simpo, .sigmoid:
                if lossType == .simpo { logits = logits - simpoGamma / beta }
                value = -(1 - ε) * M.logSigmoid(beta * logits) - ε * M.logSigmoid(-(beta * logits))
            case .hinge: value = M.relu(1 - beta * logits)
            case .ipo: value = M.square(logits - 1 / (2 * beta))
            }
            loss += value.value / Double(n)
            dC[i] += value.d / Double(n)
            dR[i] += value.r / Double(n)
        }
        // TRL skips the NLL (and logs 0) when cpo_alpha is 0.
        let (nll, dToken) = cpoAlpha == 0 ? (0, 0) : chosenNLL(s)
        var result = PairLossResult(loss: loss + cpoAlpha * nll, dChosen: dC, dRejected: dR, dChosenToken: cpoAlpha * dToken)
        result.metrics = rewardMetrics(chosenLogps.map { beta * $0 }, rejectedLogps.map { beta * $0 },
                                       logps: (chosenLogps, rejectedLogps))
        result.metrics.append(("nll_loss", nll))
        return result
    }

    /// ORPO: `nll − β · mean(log σ(log odds))`, the odds of the per-token mean log-probabilities.
    public static func orpo(_ s: PairScores, beta: Double) -> PairLossResult {
        let n = s.count
        var ratioSum = 0.0, oddsSum = 0.0
        var dC = [Double](repeating: 0, count: n), dR = [Double](repeating: 0, count: n)
        var chosenLogps: [Double] = [], rejectedLogps: [Double] = []
        for i in 0..<n {
            let (c, r) = sides(s, i, average: true)
            chosenLogps.append(c.value)
            rejectedLogps.append(r.value)
            let logOdds = (c - r) - (M.log1mexp(c) - M.log1mexp(r))
            let ratio = M.logSigmoid(logOdds)
            ratioSum += ratio.value
            oddsSum += logOdds.value
            dC[i] -= beta * ratio.d / Double(n)
            dR[i] -= beta * ratio.r / Double(n)
        }
        let (nll, dToken) = chosenNLL(s)
        var result = PairLossResult(loss: nll - beta * ratioSum / Double(n), dChosen: dC, dRejected: dR, dChosenToken: dToken)
        result.metrics = rewardMetrics(chosenLogps.map { beta * $0 }, rejectedLogps.map { beta * $0 },
                                       logps: (chosenLogps, rejectedLogps))
        result.metrics += [("nll_loss", nll), ("log_odds_ratio", ratioSum / Double(n)), ("log_odds_chosen", oddsSum / Double(n))]
        return result
    }

    /// Pair i's chosen and rejected log-probabilities as duals: sums, or per-token means.
    private static func sides(_ s: PairScores, _ i: Int, average: Bool) -> (Dual, Dual) {
        let cn = average ? Double(max(s.chosenTokens[i], 1)) : 1, rn = average ? Double(max(s.rejectedTokens[i], 1)) : 1
        return (Dual(s.chosen[i] / cn, d: 1 / cn), Dual(s.rejected[i] / rn, r: 1 / rn))
    }

    /// The mean NLL over every chosen answer token of the micro-batch and its ∂/∂ log π(t).
    private static func chosenNLL(_ s: PairScores) -> (Double, Double) {
        let tokens = Double(max(s.nllTokens ?? s.chosenTokens.reduce(0, +), 1))
        return (-(s.nllSum ?? s.chosen.reduce(0, +)) / tokens, -1 / tokens)
    }

    private static func rewardMetrics(_ chosen: [Double], _ rejected: [Double], _ s: PairScores) -> [(key: String, value: Double)] {
        var metrics = rewardMetrics(chosen, rejected, logps: (s.chosen, s.rejected))
        let chosenTokens = Double(s.chosenTokens.reduce(0, +)), rejectedTokens = Double(s.rejectedTokens.reduce(0, +))
        metrics.append(("logits/chosen", chosenTokens > 0 ? s.chosenLogitSum / chosenTokens : 0))
        metrics.append(("logits/rejected", rejectedTokens > 0 ? s.rejectedLogitSum / rejectedTokens : 0))
        return metrics
    }

    private static func rewardMetrics(_ chosen: [Double], _ rejected: [Double],
                                      logps: ([Double], [Double])) -> [(key: String, value: Double)] {
        let n = Double(max(chosen.count, 1))
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / n }
        return [("rewards/chosen", mean(chosen)), ("rewards/rejected", mean(rejected)),
                ("rewards/accuracies", mean(zip(chosen, rejected).map { $0 > $1 ? 1 : 0 })),
                ("rewards/margins", mean(zip(chosen, rejected).map { $0 - $1 })),
                ("logps/chosen", mean(logps.0)), ("logps/rejected", mean(logps.1))]
    }
}
