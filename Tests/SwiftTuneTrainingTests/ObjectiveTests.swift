import Foundation
import SwiftTuneCPU
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor
import Testing
@testable import SwiftTuneTraining

/// The objective seam: a second objective (weighted sequence log-likelihood) against finite differences, and the
/// trainer driving it end to end.
@Suite struct ObjectiveTests {
    static let tinyModel = PEFTInteropTests.fixtures.appendingPathComponent("golden/qwen2")

    /// The tiny Qwen2 with trainable LoRA whose B is nonzero (so A has a gradient too).
    static func model() throws -> DecoderModel {
        let model = try DecoderModel.load(directory: tinyModel, backend: CPUBackend())
        try model.attachLoRA(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0), seed: 3, trainable: true)
        var generator = SeededGenerator(seed: 4)
        for lora in model.loraModules {
            let values = generator.normals(lora.loraB.value.count, standardDeviation: 0.05)
            try model.backend.copy(model.backend.tensor(values, shape: lora.loraB.shape), to: lora.loraB.value)
        }
        return model
    }

    /// Examples of random ids whose first two labels are masked (the prompt), one packed with two sequences.
    static func examples(vocabulary: Int) -> [TrainingExample] {
        var generator = SeededGenerator(seed: 5)
        func sequence(_ length: Int) -> (ids: [Int32], labels: [Int32]) {
            let ids = (0..<length).map { _ in Int32(generator.next() % UInt64(vocabulary)) }
            return (ids, [-100, -100] + ids.dropFirst(2))
        }
        let (a, b, c, d) = (sequence(7), sequence(5), sequence(9), sequence(4))
        return [TrainingExample(sequences: [a.ids], labels: [a.labels]),
                TrainingExample(sequences: [b.ids, c.ids], labels: [b.labels, c.labels]),
                TrainingExample(sequences: [d.ids], labels: [d.labels])]
    }

    @Test func weightedSequenceLikelihoodGradientMatchesFiniteDifferences() throws {
        let model = try Self.model()
        let backend = model.backend
        let examples = Self.examples(vocabulary: model.config.vocabSize)
        let weights: [Float] = [1, -0.5, 2]
        let objective = try SequenceLogProbabilityObjective(train: examples, weights: weights)
        let microBatches = [[0, 1], [2]]
        let statistics = try backend.floats(objective.accumulateGradients(model: model, microBatches: microBatches,
                                                                          step: 0, runSeed: 1))
        // L = −(1/S) Σ_s c_s log p(answer_s), S = 4 sequences.
        func loss() throws -> Double {
            var total = 0.0
            for (index, example) in examples.enumerated() {
                let batch = try TokenBatch(examples: [example]).upload(to: backend)
                let perToken = try backend.floats(#require(model.loss(batch, wantLogProbabilities: true).logProbabilities))
                total += Double(weights[index]) * perToken.reduce(0.0) { $0 + Double($1) }
            }
            return -total / 4
        }
        #expect(statistics[1] == 4)
        let scored = examples.reduce(0) { $0 + $1.labels.reduce(0) { $0 + $1.count - 2 } }  // two masked labels; the shift drops one more
        #expect(Int(statistics[2]) == scored)
        let expectedLoss = try loss()
        #expect(abs(objective.stepLoss(statistics) - expectedLoss) <= 1e-5 * abs(expectedLoss))

        var checked = 0
        for lora in model.loraModules.prefix(4) {
            for parameter in [lora.loraA, lora.loraB] {
                let analytic = try backend.floats(#require(parameter.gradient))
                for index in analytic.indices.sorted(by: { abs(analytic[$0]) > abs(analytic[$1]) }).prefix(2) {
                    var values = try backend.floats(parameter.value)
                    let original = values[index], epsilon: Float = 1e-2
                    func at(_ value: Float) throws -> Double {
                        values[index] = value
                        try backend.copy(backend.tensor(values, shape: parameter.shape), to: parameter.value)
                        return try loss()
                    }
                    let numeric = (try at(original + epsilon) - at(original - epsilon)) / (2 * Double(epsilon))
                    _ = try at(original)
                    let error = abs(numeric - Double(analytic[index])) / max(abs(numeric), 1e-3)
                    #expect(error < 2e-2, "\(parameter.name)[\(index)]: analytic \(analytic[index]), numeric \(numeric)")
                    checked += 1
                }
            }
        }
        #expect(checked == 16)
    }

    /// The trainer runs any objective: its metric names reach logging.jsonl and its loss falls.
    @Test func trainerDrivesASecondObjective() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let model = try Self.model()
        let examples = Self.examples(vocabulary: model.config.vocabSize)
        let objective = try SequenceLogProbabilityObjective(train: examples, validation: examples)
        var arguments = TrainingArguments()
        arguments.maxSteps = 6
        arguments.perDeviceTrainBatchSize = 2
        arguments.gradientAccumulationSteps = 1
        arguments.learningRate = 1e-2
        arguments.loggingSteps = 1
        arguments.saveSteps = 6
        arguments.outputDir = output.path
        let trainer = try Trainer(model: model, objective: objective, arguments: arguments, fullFineTuning: false,
                                  runFolder: output) { _ in }
        let summary = try trainer.train()
        #expect(summary.globalStep == 6)
        let losses = trainer.log.records.compactMap { $0.number("loss") }
        #expect(losses.count == 6)
        #expect(trainer.log.records.contains { $0.number("scored_tokens") != nil })
        let evalLosses = trainer.log.records.compactMap { $0.number("eval_loss") }
        #expect(evalLosses.count == 1)
        #expect(try #require(losses.last) < losses[0] * 0.999, "loss \(losses)")
    }
}
