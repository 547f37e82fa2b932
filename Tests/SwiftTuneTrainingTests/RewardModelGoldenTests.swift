import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneChat
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor
@testable import SwiftTuneTraining

/// `--rlhf_type rm` against TRL 1.16's RewardTrainer on the tiny qwen2 as `Qwen2ForSequenceClassification` with a
/// SEQ_CLS PEFT adapter (LoRA on every linear layer, `score` trained in full): see make_preference_goldens.py.
@Suite("Reward model vs TRL goldens")
struct RewardModelGoldenTests {
    /// The pairs as whole sequences (prompt + answer), as RewardTrainer scores them.
    static func pairs(_ rows: PreferenceGolden.Rows) -> [PreferencePair] {
        rows.pairs.map { p in
            PreferencePair(chosen: EncodedSample(inputIDs: p.promptIds + p.chosenIds, labels: p.promptIds + p.chosenIds),
                           rejected: EncodedSample(inputIDs: p.promptIds + p.rejectedIds, labels: p.promptIds + p.rejectedIds))
        }
    }

    @Test(arguments: [("rm", nil as Double?), ("rm/centered", 0.01)])
    func lossMetricsAndGradientsMatchTRL(name: String, center: Double?) throws {
        let golden = PreferenceGolden()
        let expected = try #require(PreferenceGolden.cases()[name])
        let rows = try PreferenceGolden.decode(PreferenceGolden.Rows.self, "rows.json")
        let model = try golden.model(adapter: "rm_initial_adapter")
        #expect(model.score?.isTrainable == true, "the SEQ_CLS adapter's score head trains")
        let objective = try RewardModelObjective(train: Self.pairs(rows), centerRewardsCoefficient: center)
        let statistics = try model.backend.floats(objective.accumulateGradients(
            model: model, microBatches: [Array(0..<rows.pairs.count)], step: 0, runSeed: 1))
        let loss = objective.stepLoss(statistics)
        #expect(abs(loss - expected.loss) <= 1e-4 * max(1, abs(expected.loss)), "\(name): loss \(loss), TRL \(expected.loss)")
        for (key, value) in objective.trainingMetrics(steps: [statistics]).dropFirst() {
            let trl = try #require(expected.metrics[key], "TRL logs no \(key)")
            #expect(abs(value - trl) <= 1e-4 * max(1, abs(trl)), "\(name): \(key) \(value), TRL \(trl)")
        }
        let file = try SafetensorsFile(url: PreferenceGolden.directory.appendingPathComponent("gradients.safetensors"))
        var squares = 0.0, compared = 0
        for (key, parameter) in try model.adapterParameters() {
            let gradient = try model.backend.floats(try #require(parameter.gradient))
            squares += gradient.reduce(0.0) { $0 + Double($1) * Double($1) }
            let stored = key == "score.weight" ? "\(name)/base_model.model.score.modules_to_save.default.weight"
                : PreferenceGolden.gradientName(name, key: key)
            guard file.contains(stored) else { continue }
            expectTensorClose(gradient, try model.backend.floats(file.tensor(stored, on: model.backend)),
                              relativeTolerance: 1e-3, "\(name) gradient \(key)")
            compared += 1
        }
        #expect(compared == 5, "\(name): \(compared) gradient tensors compared (4 LoRA + score)")
        #expect(abs(squares.squareRoot() - expected.gradNorm) <= 1e-3 * expected.gradNorm,
                "\(name): grad norm \(squares.squareRoot()), TRL \(expected.gradNorm)")
    }

    /// 10 AdamW steps (the curve settings of the other types): loss, grad_norm and metrics per step as TRL's.
    @Test func curveMatchesTRL() throws {
        let golden = PreferenceGolden()
        let rows = try PreferenceGolden.decode(PreferenceGolden.Rows.self, "rows.json")
        let curves = try PreferenceGolden.decode(PreferenceGolden.Curves.self, "curves.json")
        let expected = try #require(curves.curves["rm"])
        let model = try golden.model(adapter: "rm_initial_adapter")
        let objective = try RewardModelObjective(train: Self.pairs(rows), centerRewardsCoefficient: nil)
        let optimizer = try AdamW(parameters: model.trainableParameters,
                                  hyperparameters: AdamW.Hyperparameters(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1))
        for (step, trl) in expected.enumerated() {
            let result = try TrainingStep.run(model: model, optimizer: optimizer, learningRate: curves.learningRate,
                                              maxGradNorm: 1) {
                try objective.accumulateGradients(model: model, microBatches: [Array(0..<rows.pairs.count)], step: step,
                                                  runSeed: 1)
            }
            let statistics = try model.backend.floats(result.statistics)
            let loss = objective.stepLoss(statistics)
            #expect(abs(loss - trl.loss) <= 1e-4 * max(1, abs(trl.loss)), "rm step \(step + 1): loss \(loss), TRL \(trl.loss)")
            let norm = try result.gradNorm()
            #expect(abs(norm - trl.gradNorm) <= 1e-3 * max(1, trl.gradNorm), "rm step \(step + 1): grad_norm \(norm), TRL \(trl.gradNorm)")
            for (key, value) in objective.trainingMetrics(steps: [statistics]).dropFirst() {
                guard let expectedValue = trl.metrics[key] else { continue }
                #expect(abs(value - expectedValue) <= 1e-4 * max(1, abs(expectedValue)),
                        "rm step \(step + 1): \(key) \(value), TRL \(expectedValue)")
            }
        }
    }
}
