import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor
@testable import SwiftTuneTraining

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

@Suite("Optimizer state files")
struct OptimizerStateTests {
    static func microBatches() throws -> [TokenBatch] {
        [try TokenBatch(sequences: [[3, 17, 40, 9, 120, 7, 66]]), try TokenBatch(sequences: [[5, 5, 81, 2, 33], [14, 99, 8]])]
    }
    static let configuration = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.1, modulesToSave: ["norm"])

    func model() throws -> DecoderModel {
        try DecoderModel.load(directory: fixtures.appendingPathComponent("golden/llama"), backend: CPUBackend(threadCount: 2))
    }

    /// Three steps in one go equal two steps, a save of adapter and optimizer, a load into fresh objects, and a
    /// third step: bit for bit, dropout included.
    @Test func resumingContinuesExactlyWhereTheRunStopped() throws {
        let schedule = LearningRateSchedule(kind: .cosine, baseLearningRate: 1e-2, warmupSteps: 1, totalSteps: 3)
        func fresh() throws -> (DecoderModel, AdamW) {
            let model = try model()
            try model.attachLoRA(Self.configuration, seed: 21)
            return (model, try AdamW(parameters: model.trainableParameters))
        }
        let (straight, straightOptimizer) = try fresh()
        for step in 0..<3 {
            _ = try trainingStep(model: straight, optimizer: straightOptimizer, schedule: schedule,
                                 microBatches: Self.microBatches(), step: step, maxGradNorm: 1, dropoutRun: 5)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (first, firstOptimizer) = try fresh()
        for step in 0..<2 {
            _ = try trainingStep(model: first, optimizer: firstOptimizer, schedule: schedule,
                                 microBatches: Self.microBatches(), step: step, maxGradNorm: 1, dropoutRun: 5)
        }
        try LoRAAdapter.save(from: first, to: directory, baseModelNameOrPath: nil)
        try firstOptimizer.saveState(to: directory.appendingPathComponent(AdamW.stateFileName))

        let resumed = try model()
        try LoRAAdapter.load(from: directory, into: resumed, trainable: true)
        let resumedOptimizer = try AdamW(parameters: resumed.trainableParameters)
        try resumedOptimizer.loadState(from: directory.appendingPathComponent(AdamW.stateFileName))
        #expect(resumedOptimizer.stepCount == 2)
        _ = try trainingStep(model: resumed, optimizer: resumedOptimizer, schedule: schedule,
                             microBatches: Self.microBatches(), step: 2, maxGradNorm: 1, dropoutRun: 5)
        let expected = try straight.adapterParameters(), actual = try resumed.adapterParameters()
        #expect(expected.map(\.key) == actual.map(\.key))
        for (a, b) in zip(expected, actual) {
            #expect(try straight.backend.floats(a.parameter.value) == resumed.backend.floats(b.parameter.value), "\(a.key)")
        }
    }

    @Test func aStateForOtherParametersIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent(AdamW.stateFileName)
        let small = try model()
        try small.attachLoRA(LoRAConfiguration(rank: 2, targets: .names(["q_proj"])), seed: 1)
        try AdamW(parameters: small.trainableParameters).saveState(to: url)

        let other = try model()
        try other.attachLoRA(LoRAConfiguration(rank: 4, targets: .names(["q_proj"])), seed: 1)
        let optimizer = try AdamW(parameters: other.trainableParameters)
        do {
            try optimizer.loadState(from: url)
            Issue.record("a state of rank 2 loaded into rank-4 adapters")
        } catch let CheckpointError.invalidValue(_, key, reason) {
            #expect(key == "model.layers.0.self_attn.q_proj.lora_A.weight.exp_avg")
            #expect(reason.contains("[2, 64]") && reason.contains("[4, 64]"))
        }
        let wider = try model()
        try wider.attachLoRA(LoRAConfiguration(rank: 2, targets: .names(["q_proj", "v_proj"])), seed: 1)
        #expect(throws: CheckpointError.self) { try AdamW(parameters: wider.trainableParameters).loadState(from: url) }
        #expect(optimizer.stepCount == 0)
    }
}
