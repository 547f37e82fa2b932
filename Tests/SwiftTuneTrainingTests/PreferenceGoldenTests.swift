import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneChat
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor
@testable import SwiftTuneTraining

/// Fixtures made by scripts/golden/make_preference_goldens.py (TRL 1.16, PEFT 0.21, torch 2.13 CPU f32, eager
/// attention) on the tiny qwen2: every number comes from TRL's own trainers on fixed token ids.
struct PreferenceGolden {
    static let directory = fixtures.appendingPathComponent("preference")
    let backend = CPUBackend(threadCount: 2)

    struct Pair: Decodable { let promptIds: [Int32]; let chosenIds: [Int32]; let rejectedIds: [Int32] }
    struct KTORow: Decodable { let promptIds: [Int32]; let completionIds: [Int32]; let label: Bool }
    struct Rows: Decodable { let pairs: [Pair]; let kto: [KTORow] }
    struct Case: Decodable {
        let loss: Double
        let metrics: [String: Double]
        let gradNorm: Double
    }
    struct CurveStep: Decodable { let loss: Double; let gradNorm: Double; let metrics: [String: Double] }
    struct Curves: Decodable { let steps: Int; let learningRate: Double; let curves: [String: [CurveStep]] }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// cases.json keeps metric keys with slashes, so it is read without key conversion of the metric names.
    static func cases() throws -> [String: Case] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("cases.json")))
        guard let all = object as? [String: [String: Any]] else { return [:] }
        var out: [String: Case] = [:]
        for (name, value) in all {
            out[name] = Case(loss: value["loss"] as? Double ?? .nan, metrics: value["metrics"] as? [String: Double] ?? [:],
                             gradNorm: value["grad_norm"] as? Double ?? .nan)
        }
        return out
    }

    /// The pairs as the data layer encodes them: prompt labels −100, answer labels the answer ids.
    static func pairs(_ rows: Rows) -> [PreferencePair] {
        rows.pairs.map { p in
            func sample(_ answer: [Int32]) -> EncodedSample {
                EncodedSample(inputIDs: p.promptIds + answer,
                              labels: Array(repeating: EncodedSample.ignoreIndex, count: p.promptIds.count) + answer)
            }
            return PreferencePair(chosen: sample(p.chosenIds), rejected: sample(p.rejectedIds))
        }
    }

    /// The golden base with TRL's initial adapter (policy ≠ reference).
    func model(adapter: String = "initial_adapter") throws -> DecoderModel {
        let model = try DecoderModel.load(directory: fixtures.appendingPathComponent("golden/qwen2"), backend: backend)
        try LoRAAdapter.load(from: Self.directory.appendingPathComponent(adapter), into: model, trainable: true)
        return model
    }

    /// The fixture's gradient name of an adapter parameter key.
    static func gradientName(_ name: String, key: String) -> String {
        name + "/" + LoRAAdapter.keyPrefix + key.replacingOccurrences(of: ".lora_A.weight", with: ".lora_A.default.weight")
            .replacingOccurrences(of: ".lora_B.weight", with: ".lora_B.default.weight")
    }

    /// Compares loss, metrics, the global gradient norm and the stored gradient tensors of one case.
    func compare(_ name: String, loss: Double, metrics: [(key: String, value: Double)], model: DecoderModel,
                 golden: Case, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(abs(loss - golden.loss) <= 1e-4 * max(1, abs(golden.loss)),
                "\(name): loss \(loss), TRL \(golden.loss) (diff \(loss - golden.loss))", sourceLocation: sourceLocation)
        for (key, value) in metrics {
            guard let expected = golden.metrics[key] else { continue }
            #expect(abs(value - expected) <= 1e-4 * max(1, abs(expected)),
                    "\(name): \(key) \(value), TRL \(expected) (diff \(value - expected))", sourceLocation: sourceLocation)
        }
        let shared = Set(metrics.map(\.key)).intersection(golden.metrics.keys)
        #expect(shared.count >= 6, "\(name): compared only \(shared.sorted())", sourceLocation: sourceLocation)
        let parameters = try model.adapterParameters()
        var squares = 0.0
        let file = try SafetensorsFile(url: Self.directory.appendingPathComponent("gradients.safetensors"))
        var compared = 0
        for (key, parameter) in parameters {
            guard let gradient = parameter.gradient else { continue }
            let values = try backend.floats(gradient)
            squares += values.reduce(0.0) { $0 + Double($1) * Double($1) }
            let stored = Self.gradientName(name, key: key)
            if file.contains(stored) {
                expectTensorClose(values, try backend.floats(file.tensor(stored, on: backend)), relativeTolerance: 1e-3,
                                  "\(name) gradient \(key)", sourceLocation: sourceLocation)
                compared += 1
            }
        }
        #expect(compared == 4, "\(name): \(compared) gradient tensors compared", sourceLocation: sourceLocation)
        let norm = squares.squareRoot()
        #expect(abs(norm - golden.gradNorm) <= 1e-3 * max(1e-6, golden.gradNorm),
                "\(name): LoRA grad norm \(norm), TRL \(golden.gradNorm)", sourceLocation: sourceLocation)
    }
}

@Suite("Preference objectives vs TRL goldens")
struct PreferenceGoldenTests {
    /// ms-swift loss name(s), weights, β and ε of each DPO case of the script.
    static let dpoCases: [(name: String, losses: [String], weights: [Double]?, rpo: Double?, beta: Double, smoothing: Double)] = [
        ("sigmoid", ["sigmoid"], nil, nil, 0.1, 0), ("hinge", ["hinge"], nil, nil, 0.1, 0), ("ipo", ["ipo"], nil, nil, 0.1, 0),
        ("robust", ["robust"], nil, nil, 0.1, 0.1), ("bco_pair", ["bco_pair"], nil, nil, 0.1, 0),
        ("sppo_hard", ["sppo_hard"], nil, nil, 0.1, 0), ("nca_pair", ["nca_pair"], nil, nil, 0.1, 0),
        ("aot", ["aot"], nil, nil, 0.1, 0.05), ("aot_pair", ["aot_pair"], nil, nil, 0.1, 0.05),
        ("apo_zero", ["apo_zero"], nil, nil, 0.1, 0), ("apo_down", ["apo_down"], nil, nil, 0.1, 0),
        ("exo_pair", ["exo_pair"], nil, nil, 0.1, 1e-3), ("discopop", ["discopop"], nil, nil, 0.1, 0),
        ("sigmoid_norm", ["sigmoid_norm"], nil, nil, 0.1, 0),
        ("rpo", ["sigmoid"], nil, 0.5, 0.1, 0),  // --rpo_alpha 0.5
        ("weighted", ["sigmoid", "bco_pair", "sft"], [0.8, 0.2, 1.0], nil, 0.1, 0),
        ("beta_0.5", ["sigmoid"], nil, nil, 0.5, 0),
    ]

    /// One micro-batch of all pairs: loss, metrics and LoRA gradients as TRL's.
    func check(_ name: String, options: PreferenceOptions) throws {
        let golden = PreferenceGolden()
        let cases = try PreferenceGolden.cases()
        let expected = try #require(cases[name], "no case \(name) in cases.json")
        let rows = try PreferenceGolden.decode(PreferenceGolden.Rows.self, "rows.json")
        let model = try golden.model()
        let objective = try PreferenceObjective(train: PreferenceGolden.pairs(rows), options: options)
        let statistics = try model.backend.floats(objective.accumulateGradients(
            model: model, microBatches: [Array(0..<rows.pairs.count)], step: 0, runSeed: 1))
        let metrics = objective.trainingMetrics(steps: [statistics])
        try golden.compare(name, loss: objective.stepLoss(statistics), metrics: Array(metrics.dropFirst()), model: model,
                           golden: expected)
    }

    @Test(arguments: dpoCases.map(\.name))
    func dpoLossMatchesTRL(name: String) throws {
        let c = try #require(Self.dpoCases.first { $0.name == name })
        var options = PreferenceOptions(rlhfType: .dpo)
        options.lossTypes = c.losses
        options.lossWeights = c.weights
        options.rpoAlpha = c.rpo
        options.beta = c.beta
        options.labelSmoothing = c.smoothing
        try check("dpo/\(name)", options: options)
    }

    @Test func referenceFreeDPOMatchesTRL() throws {
        var options = PreferenceOptions(rlhfType: .dpo)
        options.referenceFree = true
        try check("dpo/reference_free", options: options)
    }

    @Test func cpoSimPOAndORPOMatchTRL() throws {
        var cpo = PreferenceOptions(rlhfType: .cpo)
        cpo.cpoAlpha = 1
        try check("cpo", options: cpo)
        var simpo = PreferenceOptions(rlhfType: .simpo)
        simpo.beta = 2
        simpo.simpoGamma = 1
        simpo.cpoAlpha = 0  // the golden's pure SimPO (ms-swift's default keeps cpo_alpha 1)
        try check("simpo", options: simpo)
        simpo.simpoGamma = 0.5
        simpo.cpoAlpha = 0.3
        try check("simpo/cpo_alpha", options: simpo)
        try check("orpo", options: PreferenceOptions(rlhfType: .orpo))
    }

    /// Precomputed reference log-probabilities give the same step as the reference pass.
    @Test func precomputedReferenceMatchesTRL() throws {
        let golden = PreferenceGolden()
        let rows = try PreferenceGolden.decode(PreferenceGolden.Rows.self, "rows.json")
        let model = try golden.model()
        var options = PreferenceOptions(rlhfType: .dpo)
        options.precomputeRefLogProbs = true
        let objective = try PreferenceObjective(train: PreferenceGolden.pairs(rows), options: options)
        try objective.precomputeReference(model: model, adaptersDisabled: true, batchSize: 2)
        let statistics = try model.backend.floats(objective.accumulateGradients(
            model: model, microBatches: [Array(0..<rows.pairs.count)], step: 0, runSeed: 1))
        try golden.compare("dpo/sigmoid", loss: objective.stepLoss(statistics),
                           metrics: Array(objective.trainingMetrics(steps: [statistics]).dropFirst()), model: model,
                           golden: try #require(PreferenceGolden.cases()["dpo/sigmoid"]))
    }
}

@Suite("KTO vs TRL goldens")
struct KTOGoldenTests {
    static func examples(_ rows: PreferenceGolden.Rows) -> [KTOExample] {
        rows.kto.map { r in
            KTOExample(sample: EncodedSample(inputIDs: r.promptIds + r.completionIds,
                                             labels: Array(repeating: EncodedSample.ignoreIndex, count: r.promptIds.count)
                                                 + r.completionIds), label: r.label)
        }
    }

    @Test(arguments: [("kto", 1.0, 1.0), ("kto/weighted", 1.5, 0.7)])
    func ktoMatchesTRL(name: String, desirable: Double, undesirable: Double) throws {
        let golden = PreferenceGolden()
        let rows = try PreferenceGolden.decode(PreferenceGolden.Rows.self, "rows.json")
        let model = try golden.model()
        var options = PreferenceOptions(rlhfType: .kto)
        options.desirableWeight = desirable
        options.undesirableWeight = undesirable
        let objective = try KTOObjective(train: Self.examples(rows), options: options, klBlockSize: rows.kto.count)
        let statistics = try model.backend.floats(objective.accumulateGradients(
            model: model, microBatches: [Array(0..<rows.kto.count)], step: 0, runSeed: 1))
        try golden.compare(name, loss: objective.stepLoss(statistics),
                           metrics: Array(objective.trainingMetrics(steps: [statistics]).dropFirst()), model: model,
                           golden: try #require(PreferenceGolden.cases()[name]))
    }

    @Test func oneLabelClassIsRefused() throws {
        let rows = try PreferenceGolden.decode(PreferenceGolden.Rows.self, "rows.json")
        let desirable = Self.examples(rows).map { KTOExample(sample: $0.sample, label: true) }
        #expect(throws: TrainingError.self) {
            try KTOObjective(train: desirable, options: PreferenceOptions(rlhfType: .kto), klBlockSize: 2)
        }
    }
}

@Suite("Preference training curves vs TRL goldens")
struct PreferenceCurveTests {
    /// 10 AdamW steps on all rows (constant lr 5e-3, betas 0.9/0.95, weight decay 0.1, clip 1): per-step loss,
    /// grad_norm and metrics as TRL's trainer + torch AdamW.
    @Test(arguments: ["dpo", "kto", "cpo", "simpo", "orpo"])
    func curveMatchesTRL(type: String) throws {
        let golden = PreferenceGolden()
        let rows = try PreferenceGolden.decode(PreferenceGolden.Rows.self, "rows.json")
        let curves = try PreferenceGolden.decode(PreferenceGolden.Curves.self, "curves.json")
        let expected = try #require(curves.curves[type])
        let model = try golden.model()
        var options = PreferenceOptions(rlhfType: try RLHFType.parse(type))
        let objective: any TrainingObjective
        let items: Int
        if type == "kto" {
            objective = try KTOObjective(train: KTOGoldenTests.examples(rows), options: options, klBlockSize: rows.kto.count)
            items = rows.kto.count
        } else {
            if type == "simpo" { options.beta = 2; options.simpoGamma = 1; options.cpoAlpha = 0 }
            objective = try PreferenceObjective(train: PreferenceGolden.pairs(rows), options: options)
            items = rows.pairs.count
        }
        let optimizer = try AdamW(parameters: model.trainableParameters,
                                  hyperparameters: AdamW.Hyperparameters(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1))
        #expect(expected.count == curves.steps)
        for (step, golden) in expected.enumerated() {
            let result = try TrainingStep.run(model: model, optimizer: optimizer, learningRate: curves.learningRate,
                                              maxGradNorm: 1) {
                try objective.accumulateGradients(model: model, microBatches: [Array(0..<items)], step: step, runSeed: 1)
            }
            let statistics = try model.backend.floats(result.statistics)
            let loss = objective.stepLoss(statistics)
            #expect(abs(loss - golden.loss) <= 1e-4 * max(1, abs(golden.loss)),
                    "\(type) step \(step + 1): loss \(loss), TRL \(golden.loss)")
            let norm = try result.gradNorm()
            #expect(abs(norm - golden.gradNorm) <= 1e-3 * max(1, golden.gradNorm),
                    "\(type) step \(step + 1): grad_norm \(norm), TRL \(golden.gradNorm)")
            for (key, value) in objective.trainingMetrics(steps: [statistics]).dropFirst() {
                guard let trl = golden.metrics[key] else { continue }
                #expect(abs(value - trl) <= 1e-4 * max(1, abs(trl)), "\(type) step \(step + 1): \(key) \(value), TRL \(trl)")
            }
        }
    }
}
