import SwiftTuneChat
import SwiftTuneModels
import SwiftTuneTensor

/// A preference pair encoded as `sft` encodes an answer: the same prompt with the chosen and the rejected answer,
/// labels `-100` everywhere but the final answer.
public struct PreferencePair: Sendable, Equatable {
    public var chosen: EncodedSample
    public var rejected: EncodedSample

    public init(chosen: EncodedSample, rejected: EncodedSample) {
        self.chosen = chosen
        self.rejected = rejected
    }

    public var tokenCount: Int { chosen.count + rejected.count }
}

/// The pairwise preference objectives — DPO (every `--loss_type`), CPO, SimPO and ORPO — over the objective seam.
///
/// A micro-batch packs the chosen and rejected answers of its pairs into one batch (one forward pass for both), reads
/// each answer's summed log-probability, takes the reference's (the same model with its adapters off, or precomputed
/// before training) when the loss needs one, evaluates TRL's loss and its derivatives on the host (`PairLoss`), and runs
/// one backward pass with per-token weights `w_t = −∂L/∂ log p_t`. Each micro-batch's loss is the mean over its pairs,
/// divided by the micro-batches of the step (HF Trainer's accumulation without `num_items_in_batch`).
///
/// Statistics: f32 `[2 + k]` = Σ micro-batch loss / G, micro-batches, then the sum over micro-batches of each of the
/// `metricKeys` (TRL averages its logged metrics over the calls of a logging interval).
public final class PreferenceObjective: TrainingObjective {
    public let train: [PreferencePair]
    public let validation: [PreferencePair]
    public let options: PreferenceOptions
    /// The logged metric names, in order (TRL's).
    public let metricKeys: [String]
    /// Precomputed reference sums per training / validation pair (chosen, rejected), when a reference is used.
    public private(set) var trainReference: [(Double, Double)]?
    public private(set) var validationReference: [(Double, Double)]?
    private let dpoLosses: [(type: DPOLossType, weight: Double)]

    public init(train: [PreferencePair], validation: [PreferencePair] = [], options: PreferenceOptions) throws {
        guard !train.isEmpty else { throw TrainingError.noTrainableTokens(dataset: "the preference pairs (there are none)") }
        guard [.dpo, .cpo, .simpo, .orpo].contains(options.rlhfType) else {
            throw TrainingError.invalidArgument(flag: "rlhf_type", value: options.rlhfType.rawValue,
                                                expected: "dpo, cpo, simpo or orpo for preference pairs")
        }
        try options.validate()
        self.train = train
        self.validation = validation
        self.options = options
        dpoLosses = options.rlhfType == .dpo ? try options.dpoLosses() : []
        let base = ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"]
        switch options.rlhfType {
        case .dpo:
            metricKeys = base + ["logits/chosen", "logits/rejected"] + (dpoLosses.contains { $0.type == .sft } ? ["nll_loss"] : [])
        case .orpo: metricKeys = base + ["nll_loss", "log_odds_ratio", "log_odds_chosen"]
        default: metricKeys = base + ["nll_loss"]
        }
    }

    /// Whether a step runs the reference model (DPO that is neither reference-free nor precomputed).
    public var usesReference: Bool { options.rlhfType == .dpo && !options.referenceFree }

    public var trainCount: Int { train.count }
    public var validationCount: Int { validation.count }
    public func tokenCount(train indices: [Int]) -> Int { indices.reduce(0) { $0 + train[$1].tokenCount } }

    /// `--precompute_ref_log_probs`: the reference sums of every pair in one pass, by `reference` (the policy with its
    /// adapters off by default; a separate `--ref_model` when given), `batchSize` pairs at a time.
    public func precomputeReference(model reference: DecoderModel, adaptersDisabled: Bool, batchSize: Int) throws {
        guard usesReference else { return }
        func run(_ pairs: [PreferencePair]) throws -> [(Double, Double)] {
            var out: [(Double, Double)] = []
            for first in stride(from: 0, to: pairs.count, by: max(batchSize, 1)) {
                let chunk = Array(pairs[first..<min(pairs.count, first + max(batchSize, 1))])
                let samples = chunk.map(\.chosen) + chunk.map(\.rejected)
                let sums = adaptersDisabled
                    ? try SequenceScorer.referenceSums(model: reference, samples: samples)
                    : try SequenceScorer.score(model: reference, samples: samples, dropoutSeed: nil, keepPass: false,
                                               wantLogits: false).sums
                for i in 0..<chunk.count { out.append((sums[i], sums[i + chunk.count])) }
            }
            return out
        }
        trainReference = try run(train)
        validationReference = try run(validation)
    }

    public func accumulateGradients(model: DecoderModel, microBatches: [[Int]], step: Int, runSeed: UInt64) throws -> Tensor {
        var totals = [Double](repeating: 0, count: 2 + metricKeys.count)
        let scale = 1 / Double(max(microBatches.count, 1))
        for (micro, indices) in microBatches.enumerated() {
            let seed = DropoutMask.stepSeed(run: runSeed, step: step, microBatch: micro)
            let pairs = indices.map { train[$0] }
            let scores = try score(model: model, pairs: pairs, dropoutSeed: seed, keepPass: true)
            let reference = try referenceSums(model: model, pairs: pairs, precomputed: trainReference.map { r in indices.map { r[$0] } })
            let result = loss(scores, pairCount: pairs.count, reference: reference)
            accumulate(result, into: &totals, lossScale: scale)
            // Chosen answers first, then rejected: the derivative per sequence, the NLL term on chosen tokens.
            let n = pairs.count
            let derivative = (result.dChosen + result.dRejected).map { $0 * scale }
            let tokenTerm = (0..<(2 * n)).map { $0 < n ? result.dChosenToken * scale : 0 }
            let weights = SequenceScorer.tokenWeights(scores, sequenceDerivative: derivative, tokenTerm: tokenTerm)
            guard let pass = scores.pass else { continue }
            let weightTensor = try model.backend.tensor(weights, shape: [weights.count], dtype: .f32)
            _ = try model.backward(pass, gradient: LogProbabilityGradient(gradientScale: 1, tokenWeights: weightTensor))
        }
        return try model.backend.tensor(totals.map { Float($0) }, shape: [totals.count], dtype: .f32)
    }

    /// One forward pass over the pairs, chosen answers first. ORPO scores the whole chosen sequence (its NLL covers the
    /// prompt, as TRL's ORPOTrainer) and sums only the answer.
    private func score(model: DecoderModel, pairs: [PreferencePair], dropoutSeed: UInt64?, keepPass: Bool) throws -> SequenceScores {
        guard options.rlhfType == .orpo else {
            return try SequenceScorer.score(model: model, samples: pairs.map(\.chosen) + pairs.map(\.rejected),
                                            dropoutSeed: dropoutSeed, keepPass: keepPass)
        }
        let whole = pairs.map { pair in
            EncodedSample(inputIDs: pair.chosen.inputIDs, labels: [EncodedSample.ignoreIndex] + pair.chosen.inputIDs.dropFirst())
        }
        return try SequenceScorer.score(model: model, samples: whole + pairs.map(\.rejected), dropoutSeed: dropoutSeed,
                                        keepPass: keepPass, answerLabels: pairs.map { $0.chosen.labels } + pairs.map { _ in nil })
    }

    /// The loss and its derivatives of one micro-batch from its scores (chosen answers first, then rejected).
    func loss(_ scores: SequenceScores, pairCount n: Int, reference: (chosen: [Double], rejected: [Double])?) -> PairLossResult {
        var pairScores = PairScores(chosen: Array(scores.sums[0..<n]), rejected: Array(scores.sums[n..<(2 * n)]),
                                    chosenTokens: Array(scores.counts[0..<n]), rejectedTokens: Array(scores.counts[n..<(2 * n)]),
                                    referenceChosen: reference?.chosen, referenceRejected: reference?.rejected)
        if options.rlhfType == .orpo {
            pairScores.nllSum = scores.scoredSums[0..<n].reduce(0, +)
            pairScores.nllTokens = scores.scoredCounts[0..<n].reduce(0, +)
        }
        pairScores.chosenLogitSum = scores.logitSums[0..<n].reduce(0, +)
        pairScores.rejectedLogitSum = scores.logitSums[n..<(2 * n)].reduce(0, +)
        let beta = options.resolvedBeta
        switch options.rlhfType {
        case .cpo, .simpo:
            return PairLoss.cpo(pairScores, lossType: (try? options.cpoLoss()) ?? .sigmoid, beta: beta,
                                labelSmoothing: options.labelSmoothing, simpoGamma: options.simpoGamma,
                                cpoAlpha: options.resolvedCPOAlpha)
        case .orpo:
            return PairLoss.orpo(pairScores, beta: beta)
        default:
            return PairLoss.dpo(pairScores, losses: dpoLosses, beta: beta, labelSmoothing: options.labelSmoothing,
                                discopopTau: options.discopopTau)
        }
    }

    /// The reference sums of `pairs`: precomputed, zero (reference-free), or a pass with the adapters off; nil when
    /// the objective has no reference.
    private func referenceSums(model: DecoderModel, pairs: [PreferencePair],
                               precomputed: [(Double, Double)]?) throws -> (chosen: [Double], rejected: [Double])? {
        guard options.rlhfType == .dpo else { return nil }
        if options.referenceFree {
            return (Array(repeating: 0, count: pairs.count), Array(repeating: 0, count: pairs.count))
        }
        if let precomputed { return (precomputed.map(\.0), precomputed.map(\.1)) }
        let sums = try SequenceScorer.referenceSums(model: model, samples: pairs.map(\.chosen) + pairs.map(\.rejected))
        return (Array(sums[0..<pairs.count]), Array(sums[pairs.count...]))
    }

    private func accumulate(_ result: PairLossResult, into totals: inout [Double], lossScale: Double) {
        totals[0] += result.loss * lossScale
        totals[1] += 1
        for (i, key) in metricKeys.enumerated() {
            totals[2 + i] += result.metrics.first { $0.key == key }?.value ?? 0
        }
    }

    public func evaluate(model: DecoderModel, validation indices: [Int]) throws -> Tensor {
        let pairs = indices.map { validation[$0] }
        let scores = try score(model: model, pairs: pairs, dropoutSeed: nil, keepPass: false)
        let reference = try referenceSums(model: model, pairs: pairs,
                                          precomputed: validationReference.map { r in indices.map { r[$0] } })
        var totals = [Double](repeating: 0, count: 2 + metricKeys.count)
        accumulate(loss(scores, pairCount: pairs.count, reference: reference), into: &totals, lossScale: 1)
        return try model.backend.tensor(totals.map { Float($0) }, shape: [totals.count], dtype: .f32)
    }

    public func stepLoss(_ statistics: [Float]) -> Double { Double(statistics[0]) }

    public func trainingMetrics(steps: [[Float]]) -> [(key: String, value: Double)] {
        let loss = steps.map(stepLoss).reduce(0, +) / Double(max(steps.count, 1))
        let calls = steps.reduce(0.0) { $0 + Double($1[1]) }
        return [("loss", loss)] + metricKeys.enumerated().map { i, key in
            (key, calls > 0 ? steps.reduce(0.0) { $0 + Double($1[2 + i]) } / calls : 0)
        }
    }

    public func evaluationMetrics(_ sum: [Double]) -> [(key: String, value: Double)] {
        guard sum.count == 2 + metricKeys.count, sum[1] > 0 else { return [("eval_loss", 0)] }
        return [("eval_loss", sum[0] / sum[1])] + metricKeys.enumerated().map { i, key in ("eval_" + key, sum[2 + i] / sum[1]) }
    }
}
