import Foundation
import SwiftTuneChat
import SwiftTuneModels
import SwiftTuneTensor

/// One KTO row: a prompt with one answer judged desirable (`label` true) or not.
public struct KTOExample: Sendable, Equatable {
    public var sample: EncodedSample
    public var label: Bool

    public init(sample: EncodedSample, label: Bool) {
        self.sample = sample
        self.label = label
    }

    /// Where the final answer starts: after the last position whose label is ignored.
    var answerStart: Int {
        (sample.labels.lastIndex(of: EncodedSample.ignoreIndex) ?? -1) + 1
    }
    var prompt: ArraySlice<Int32> { sample.inputIDs[..<answerStart] }
    var answer: ArraySlice<Int32> { sample.inputIDs[answerStart...] }
}

/// KTO (TRL 1.16's `KTOTrainer._compute_loss`): per row `1 − σ(β(log π/π_ref − z))` for desirable answers and
/// `1 − σ(β(z − log π/π_ref))` for undesirable ones, weighted by `desirable_weight` / `undesirable_weight`, the mean over
/// the micro-batch's rows; `z = max(0, mean(log π/π_ref))` over mismatched (prompt, answer) pairs, detached. The
/// mismatched answer of a row is the answer of the row before it in its block of `klBlockSize` rows (cyclic), fixed
/// when the objective is made, as TRL builds `KL_completion_ids` per batch of the dataset; they run in the same forward
/// pass with zero gradient weight.
///
/// Statistics: f32 `[2 + 2k]` = Σ loss / G, micro-batches, then (Σ value, calls that had it) per metric key.
public final class KTOObjective: TrainingObjective {
    public let train: [KTOExample]
    public let validation: [KTOExample]
    public let options: PreferenceOptions
    public static let metricKeys = ["kl", "rewards/chosen", "logps/chosen", "rewards/rejected", "logps/rejected",
                                    "rewards/margins", "logits/chosen", "logits/rejected"]
    let trainMismatched: [EncodedSample]
    let validationMismatched: [EncodedSample]
    /// Precomputed reference (row, mismatched row) sums.
    public private(set) var trainReference: [(Double, Double)]?
    public private(set) var validationReference: [(Double, Double)]?

    /// - Throws: when every row has the same label (KTO needs desirable and undesirable answers).
    public init(train: [KTOExample], validation: [KTOExample] = [], options: PreferenceOptions, klBlockSize: Int) throws {
        guard !train.isEmpty else { throw TrainingError.noTrainableTokens(dataset: "the KTO rows (there are none)") }
        try options.validate()
        let desirable = train.filter(\.label).count
        guard desirable > 0, desirable < train.count else {
            throw TrainingError.invalidArgument(
                flag: "dataset", value: "\(train.count) KTO rows, all with label \(desirable > 0)",
                expected: "rows with both label true (desirable) and label false (undesirable): KTO compares the two")
        }
        self.train = train
        self.validation = validation
        self.options = options
        trainMismatched = Self.mismatched(train, block: klBlockSize)
        validationMismatched = Self.mismatched(validation, block: klBlockSize)
    }

    /// Row i's prompt with the answer of row i − 1 of its block (the first row takes the block's last answer).
    static func mismatched(_ rows: [KTOExample], block: Int) -> [EncodedSample] {
        var out: [EncodedSample] = []
        for first in stride(from: 0, to: rows.count, by: max(block, 1)) {
            let range = first..<min(rows.count, first + max(block, 1))
            for i in range {
                let donor = rows[i == range.lowerBound ? range.upperBound - 1 : i - 1]
                let prompt = rows[i].prompt, answer = donor.answer
                out.append(EncodedSample(inputIDs: Array(prompt) + answer,
                                         labels: Array(repeating: EncodedSample.ignoreIndex, count: prompt.count) + answer))
            }
        }
        return out
    }

    public var trainCount: Int { train.count }
    public var validationCount: Int { validation.count }
    public func tokenCount(train indices: [Int]) -> Int { indices.reduce(0) { $0 + 2 * train[$1].sample.count } }

    /// `--precompute_ref_log_probs`: the reference sums of every row and its mismatched row, in one pass.
    public func precomputeReference(model reference: DecoderModel, adaptersDisabled: Bool, batchSize: Int) throws {
        func run(_ rows: [KTOExample], _ mismatched: [EncodedSample]) throws -> [(Double, Double)] {
            var out: [(Double, Double)] = []
            let size = max(batchSize, 1)
            for first in stride(from: 0, to: rows.count, by: size) {
                let range = first..<min(rows.count, first + size)
                let samples = range.map { rows[$0].sample } + range.map { mismatched[$0] }
                let sums = adaptersDisabled
                    ? try SequenceScorer.referenceSums(model: reference, samples: samples)
                    : try SequenceScorer.score(model: reference, samples: samples, dropoutSeed: nil, keepPass: false,
                                               wantLogits: false).sums
                for k in 0..<range.count { out.append((sums[k], sums[k + range.count])) }
            }
            return out
        }
        trainReference = try run(train, trainMismatched)
        validationReference = try run(validation, validationMismatched)
    }

    /// Loss, ∂loss/∂ Σ log π of each row, and the metrics of one micro-batch.
    func loss(rows: [KTOExample], scores: SequenceScores, reference: [(Double, Double)]) -> (Double, [Double], [(String, Double)]) {
        let n = rows.count, beta = options.resolvedBeta
        let kl = max(0, (0..<n).map { scores.sums[n + $0] - reference[$0].1 }.reduce(0, +) / Double(n))
        var loss = 0.0
        var derivative = [Double](repeating: 0, count: n)
        var chosen: [(reward: Double, logp: Double)] = [], rejected: [(reward: Double, logp: Double)] = []
        var logits = (chosen: 0.0, chosenTokens: 0, rejected: 0.0, rejectedTokens: 0)
        for i in 0..<n {
            let logp = Dual(scores.sums[i], d: 1)
            let ratio = logp - reference[i].0
            let value = rows[i].label
                ? options.desirableWeight * (1 - DualMath.sigmoid(beta * (ratio - kl)))
                : options.undesirableWeight * (1 - DualMath.sigmoid(beta * (kl - ratio)))
            loss += value.value / Double(n)
            derivative[i] = value.d / Double(n)
            if rows[i].label {
                chosen.append((beta * ratio.value, logp.value))
                logits.chosen += scores.logitSums[i]
                logits.chosenTokens += scores.counts[i]
            } else {
                rejected.append((beta * ratio.value, logp.value))
                logits.rejected += scores.logitSums[i]
                logits.rejectedTokens += scores.counts[i]
            }
        }
        var metrics: [(String, Double)] = [("kl", kl)]
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        if !chosen.isEmpty {
            metrics += [("rewards/chosen", mean(chosen.map(\.reward))), ("logps/chosen", mean(chosen.map(\.logp)))]
        }
        if !rejected.isEmpty {
            metrics += [("rewards/rejected", mean(rejected.map(\.reward))), ("logps/rejected", mean(rejected.map(\.logp)))]
        }
        if !chosen.isEmpty && !rejected.isEmpty {
            metrics.append(("rewards/margins", mean(chosen.map(\.reward)) - mean(rejected.map(\.reward))))
        }
        if logits.chosenTokens > 0 { metrics.append(("logits/chosen", logits.chosen / Double(logits.chosenTokens))) }
        if logits.rejectedTokens > 0 { metrics.append(("logits/rejected", logits.rejected / Double(logits.rejectedTokens))) }
        return (loss, derivative, metrics)
    }

    private func referenceSums(model: DecoderModel, rows: [KTOExample], mismatched: [EncodedSample],
                               precomputed: [(Double, Double)]?) throws -> [(Double, Double)] {
        if let precomputed { return precomputed }
        let sums = try SequenceScorer.referenceSums(model: model, samples: rows.map(\.sample) + mismatched)
        return (0..<rows.count).map { (sums[$0], sums[$0 + rows.count]) }
    }

    private func record(_ loss: Double, _ metrics: [(String, Double)], into totals: inout [Double], lossScale: Double) {
        totals[0] += loss * lossScale
        totals[1] += 1
        for (key, value) in metrics {
            guard let i = Self.metricKeys.firstIndex(of: key) else { continue }
            totals[2 + 2 * i] += value
            totals[3 + 2 * i] += 1
        }
    }

    public func accumulateGradients(model: DecoderModel, microBatches: [[Int]], step: Int, runSeed: UInt64) throws -> Tensor {
        var totals = [Double](repeating: 0, count: 2 + 2 * Self.metricKeys.count)
        let scale = 1 / Double(max(microBatches.count, 1))
        for (micro, indices) in microBatches.enumerated() {
            let rows = indices.map { train[$0] }, mismatched = indices.map { trainMismatched[$0] }
            let seed = DropoutMask.stepSeed(run: runSeed, step: step, microBatch: micro)
            // The mismatched rows ride in the same pass; TRL runs them without gradient, so their weight is 0.
            let scores = try SequenceScorer.score(model: model, samples: rows.map(\.sample) + mismatched,
                                                  dropoutSeed: seed, keepPass: true)
            let reference = try referenceSums(model: model, rows: rows, mismatched: mismatched,
                                              precomputed: trainReference.map { r in indices.map { r[$0] } })
            let (loss, derivative, metrics) = self.loss(rows: rows, scores: scores, reference: reference)
            record(loss, metrics, into: &totals, lossScale: scale)
            let perSequence = derivative.map { $0 * scale } + Array(repeating: 0, count: rows.count)
            let weights = SequenceScorer.tokenWeights(scores, sequenceDerivative: perSequence,
                                                      tokenTerm: Array(repeating: 0, count: 2 * rows.count))
            guard let pass = scores.pass else { continue }
            let weightTensor = try model.backend.tensor(weights, shape: [weights.count], dtype: .f32)
            _ = try model.backward(pass, gradient: LogProbabilityGradient(gradientScale: 1, tokenWeights: weightTensor))
        }
        return try model.backend.tensor(totals.map { Float($0) }, shape: [totals.count], dtype: .f32)
    }

    public func evaluate(model: DecoderModel, validation indices: [Int]) throws -> Tensor {
        let rows = indices.map { validation[$0] }, mismatched = indices.map { validationMismatched[$0] }
        let scores = try SequenceScorer.score(model: model, samples: rows.map(\.sample) + mismatched, dropoutSeed: nil,
                                              keepPass: false)
        let reference = try referenceSums(model: model, rows: rows, mismatched: mismatched,
                                          precomputed: validationReference.map { r in indices.map { r[$0] } })
        let (loss, _, metrics) = self.loss(rows: rows, scores: scores, reference: reference)
        var totals = [Double](repeating: 0, count: 2 + 2 * Self.metricKeys.count)
        record(loss, metrics, into: &totals, lossScale: 1)
        return try model.backend.tensor(totals.map { Float($0) }, shape: [totals.count], dtype: .f32)
    }

    public func stepLoss(_ statistics: [Float]) -> Double { Double(statistics[0]) }

    private static func metrics(_ sum: [Double], prefix: String) -> [(key: String, value: Double)] {
        metricKeys.enumerated().compactMap { i, key in
            sum[3 + 2 * i] > 0 ? (prefix + key, sum[2 + 2 * i] / sum[3 + 2 * i]) : nil
        }
    }

    public func trainingMetrics(steps: [[Float]]) -> [(key: String, value: Double)] {
        let loss = steps.map(stepLoss).reduce(0, +) / Double(max(steps.count, 1))
        var sum = [Double](repeating: 0, count: 2 + 2 * Self.metricKeys.count)
        for step in steps { for i in sum.indices where i < step.count { sum[i] += Double(step[i]) } }
        return [("loss", loss)] + Self.metrics(sum, prefix: "")
    }

    public func evaluationMetrics(_ sum: [Double]) -> [(key: String, value: Double)] {
        guard sum.count == 2 + 2 * Self.metricKeys.count, sum[1] > 0 else { return [("eval_loss", 0)] }
        return [("eval_loss", sum[0] / sum[1])] + Self.metrics(sum, prefix: "eval_")
    }
}
