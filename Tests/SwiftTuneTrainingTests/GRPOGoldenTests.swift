import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneTensor
@testable import SwiftTuneTraining

/// Fixtures made by scripts/golden/make_grpo_goldens.py (TRL 1.16's GRPOTrainer, PEFT 0.21, torch 2.13 CPU f32,
/// eager attention) on the tiny qwen2: fixed prompts, completions and rewards through TRL's own scoring and loss.
struct GRPOGolden {
    static let directory = fixtures.appendingPathComponent("grpo")
    let backend = CPUBackend(threadCount: 2)

    struct Rows: Decodable {
        let prompts: [[Int32]]
        let completions: [[[Int32]]]
        let rewards: [[[Double]]]
        let rewardWeights: [Double]
        let oldLogps: [[Double]]
        let temperature: Double
        let numGenerations: Int
        let maxCompletionLength: Int
        let eosTokenId: Int32
    }

    struct Case {
        let settings: [String: Any]
        let loss: Double
        let gradNorm: Double
        let metrics: [String: Double]
        let advantages: [Double]
        let policyLogps: [[Double]]
        let refLogps: [[Double]]?
    }

    static func rows() throws -> Rows {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Rows.self, from: Data(contentsOf: directory.appendingPathComponent("rows.json")))
    }

    static func cases() throws -> [String: Case] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("cases.json")))
        guard let all = object as? [String: [String: Any]] else { return [:] }
        return all.mapValues { v in
            Case(settings: v["settings"] as? [String: Any] ?? [:], loss: v["loss"] as? Double ?? .nan,
                 gradNorm: v["grad_norm"] as? Double ?? .nan, metrics: v["metrics"] as? [String: Double] ?? [:],
                 advantages: v["advantages"] as? [Double] ?? [], policyLogps: v["policy_logps"] as? [[Double]] ?? [],
                 refLogps: v["ref_logps"] as? [[Double]])
        }
    }

    /// The case's settings as our options.
    static func options(_ settings: [String: Any], rows: Rows) throws -> (GRPOLossOptions, RewardScaling) {
        var options = GRPOLossOptions()
        options.beta = settings["beta"] as? Double ?? 0
        options.lossType = try #require(GRPOLossType(rawValue: settings["loss_type"] as? String ?? "grpo"))
        options.epsilonHigh = settings["epsilon_high"] as? Double
        options.importanceSamplingLevel = try #require(ImportanceSamplingLevel(
            rawValue: settings["importance_sampling_level"] as? String ?? "token"))
        options.maxCompletionLength = rows.maxCompletionLength
        options.klBiasCorrection = settings["use_bias_correction_kl"] as? Bool ?? true  // TRL 1.16's default
        let scaling = try RewardScaling.parse(settings["scale_rewards"] as? String ?? "group")
        return (options, scaling)
    }

    func model() throws -> DecoderModel {
        let model = try DecoderModel.load(directory: fixtures.appendingPathComponent("golden/qwen2"), backend: backend)
        try LoRAAdapter.load(from: Self.directory.appendingPathComponent("initial_adapter"), into: model, trainable: true)
        return model
    }
}

func maxAbsError(_ a: [[Double]], _ b: [[Double]]) -> Double {
    zip(a, b).reduce(0.0) { m, pair in
        pair.0.count != pair.1.count ? .infinity : zip(pair.0, pair.1).reduce(m) { max($0, abs($1.0 - $1.1)) }
    }
}

@Suite("GRPO vs TRL GRPOTrainer goldens")
struct GRPOGoldenTests {
    static let caseNames = ["grpo", "grpo/beta", "grpo/old", "bnpo", "dr_grpo", "dapo", "gspo", "cispo", "sapo", "scale_batch",
                                   "kl_bias_correction", "gspo/kl_bias_correction"]

    /// Advantages and reward / length metrics from the fixed rewards, as `_generate_and_score_completions`.
    @Test(arguments: caseNames)
    func advantagesAndRewardMetricsMatchTRL(name: String) throws {
        let rows = try GRPOGolden.rows()
        let golden = try #require(try GRPOGolden.cases()[name])
        let (_, scaling) = try GRPOGolden.options(golden.settings, rows: rows)
        let perCompletion = rows.rewards.flatMap { $0 }
        let totals = perCompletion.map { zip($0, rows.rewardWeights).reduce(0) { $0 + $1.0 * $1.1 } }
        let advantages = GRPOLoss.advantages(rewards: totals, groupSize: rows.numGenerations, scaling: scaling)
        let advantageError = zip(advantages.advantages, golden.advantages).map { abs($0 - $1) }.max() ?? .infinity
        print("grpo golden \(name): advantages max abs error \(advantageError)")
        #expect(advantages.advantages.count == golden.advantages.count && advantageError <= 1e-5)
        let completions = rows.completions.flatMap { $0 }
        var metrics: [(key: String, value: Double)] = [
            ("reward", advantages.reward), ("reward_std", advantages.rewardStd),
            ("frac_reward_zero_std", advantages.fracRewardZeroStd),
        ]
        metrics += GRPOLoss.rewardFunctionMetrics(names: ["fixed_a", "fixed_b"],
                                                  perFunction: [perCompletion.map { $0[0] }, perCompletion.map { $0[1] }])
        metrics += GRPOLoss.completionMetrics(lengths: completions.map(\.count),
                                              terminated: completions.map { $0.last == rows.eosTokenId })
        for (key, value) in metrics {
            let expected = try #require(golden.metrics[key], "\(name): TRL logged no \(key)")
            #expect(abs(value - expected) <= 1e-5 * max(1, abs(expected)), "\(name): \(key) \(value), TRL \(expected)")
        }
    }

    /// Log-probabilities at the sampling temperature, the reference's (adapter off), loss, metrics and LoRA
    /// gradients of one micro-batch of all completions.
    @Test(arguments: caseNames)
    func lossMetricsAndGradientsMatchTRL(name: String) throws {
        let golden = GRPOGolden()
        let rows = try GRPOGolden.rows()
        let expected = try #require(try GRPOGolden.cases()[name])
        let (options, _) = try GRPOGolden.options(expected.settings, rows: rows)
        let useOld = expected.settings["old"] as? Bool ?? false
        let model = try golden.model()
        var completions: [GRPOCompletion] = []
        for (p, group) in rows.completions.enumerated() {
            for ids in group {
                completions.append(GRPOCompletion(promptIDs: rows.prompts[p], completionIDs: ids,
                                                  advantage: expected.advantages[completions.count],
                                                  oldLogps: useOld ? rows.oldLogps[completions.count] : nil))
            }
        }
        let policy = try GRPOPolicyStep.tokenLogps(model: model, completions: completions, temperature: rows.temperature).logps
        let policyError = maxAbsError(policy, expected.policyLogps)
        #expect(policyError <= 1e-4, "\(name): policy log-probabilities max abs error \(policyError)")
        var referenceError = 0.0
        if options.beta != 0 {
            let reference = try GRPOPolicyStep.referenceLogps(model: model, completions: completions,
                                                              temperature: rows.temperature, disableAdapters: true)
            referenceError = maxAbsError(reference, try #require(expected.refLogps))
            #expect(referenceError <= 1e-4, "\(name): reference log-probabilities max abs error \(referenceError)")
            for i in completions.indices { completions[i].refLogps = reference[i] }
        }
        let result = try GRPOPolicyStep.accumulate(model: model, completions: completions, options: options,
                                                   temperature: rows.temperature)
        #expect(abs(result.loss - expected.loss) <= 1e-4 * max(1, abs(expected.loss)),
                "\(name): loss \(result.loss), TRL \(expected.loss)")
        var metricError = 0.0, compared = 0
        // The fixtures leave out TRL's entropy (GRPOEntropyTests checks ours against the full logits).
        for (key, value) in result.metrics where key != "entropy" {
            let trl = try #require(expected.metrics[key], "\(name): TRL logged no \(key)")
            metricError = max(metricError, abs(value - trl))
            compared += 1
            #expect(abs(value - trl) <= 1e-4 * max(1, abs(trl)), "\(name): \(key) \(value), TRL \(trl)")
        }
        #expect(compared >= 1)
        var squares = 0.0, gradientError = 0.0, tensors = 0
        let file = try SafetensorsFile(url: GRPOGolden.directory.appendingPathComponent("gradients.safetensors"))
        for (key, parameter) in try model.adapterParameters() {
            guard let gradient = parameter.gradient else { continue }
            let values = try golden.backend.floats(gradient)
            squares += values.reduce(0.0) { $0 + Double($1) * Double($1) }
            let stored = PreferenceGolden.gradientName(name, key: key)
            guard file.contains(stored) else { continue }
            let trl = try golden.backend.floats(file.tensor(stored, on: golden.backend))
            gradientError = max(gradientError, relativeMaxError(trl, values))
            expectTensorClose(values, trl, relativeTolerance: 1e-3, "\(name) gradient \(key)")
            tensors += 1
        }
        #expect(tensors == 4, "\(name): \(tensors) gradient tensors compared")
        let norm = squares.squareRoot()
        #expect(abs(norm - expected.gradNorm) <= 1e-3 * max(1e-6, expected.gradNorm),
                "\(name): LoRA grad norm \(norm), TRL \(expected.gradNorm)")
        print("grpo golden \(name): loss \(result.loss) vs TRL \(expected.loss) (abs err \(abs(result.loss - expected.loss))); "
              + "logps max err \(policyError), ref \(referenceError); metrics max err \(metricError) (\(compared)); "
              + "grad rel err \(gradientError), norm \(norm) vs \(expected.gradNorm)")
    }

    /// The loss's token derivatives against central finite differences of the loss itself, for every loss type and
    /// both importance-sampling levels (the backward pass relies on them).
    @Test func tokenDerivativesMatchFiniteDifferences() {
        var generator = SeededGenerator(seed: 7)
        func draw() -> Double { Double.random(in: -1...1, using: &generator) }
        let completions = (0..<4).map { i in
            let length = 2 + i
            let logps = (0..<length).map { _ in -1.5 + 0.5 * draw() }
            return GRPOCompletionScores(logps: logps, oldLogps: logps.map { $0 + 0.3 * draw() },
                                        refLogps: logps.map { $0 + 0.2 * draw() }, advantage: i % 2 == 0 ? 0.8 : -0.6)
        }
        for lossType in GRPOLossType.allCases {
            for level in ImportanceSamplingLevel.allCases {
                var options = GRPOLossOptions()
                options.lossType = lossType
                options.importanceSamplingLevel = level
                options.beta = 0.05
                options.epsilonHigh = lossType == .cispo ? 1.1 : 0.28
                options.klBiasCorrection = level == .sequence
                let result = GRPOLoss.loss(completions, options: options, gradientAccumulationSteps: 2, itemsInBatch: 20)
                var worst = 0.0
                for i in completions.indices {
                    for t in completions[i].logps.indices {
                        var plus = completions, minus = completions
                        plus[i].logps[t] += 1e-6
                        minus[i].logps[t] -= 1e-6
                        let numeric = (GRPOLoss.loss(plus, options: options, gradientAccumulationSteps: 2, itemsInBatch: 20).loss
                            - GRPOLoss.loss(minus, options: options, gradientAccumulationSteps: 2, itemsInBatch: 20).loss) / 2e-6
                        // cispo's ratio is detached: its derivative is the log π term only.
                        if lossType == .cispo { continue }
                        worst = max(worst, abs(numeric - result.tokenDerivatives[i][t]))
                    }
                }
                #expect(worst <= 1e-6, "\(lossType) \(level): derivative max error \(worst)")
            }
        }
    }
}
