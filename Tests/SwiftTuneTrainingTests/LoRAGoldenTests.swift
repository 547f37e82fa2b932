import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor

/// Fixtures made by scripts/golden/make_lora_goldens.py (PEFT 0.21 + torch 2.11 AdamW + transformers 5.17,
/// CPU f32, eager attention) on the GPU machine: `scripts/golden/run_lora_goldens_on_gpu.sh`.
let loraFixtures = fixtures.appendingPathComponent("lora")

/// One step of the logged trajectory.
struct GoldenStep: Decodable {
    let step: Int
    let loss: Double
    let gradNorm: Double
    let learningRate: Double
    let loggedLearningRate: Double
}

/// `lora_trajectory.json` / `full_trajectory.json`.
struct GoldenTrajectory: Decodable {
    let steps: [GoldenStep]
    let numItemsInBatch: Int
    let decayParameters: [String]
    let noDecayParameters: [String]

    init(url: URL) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        self = try decoder.decode(Self.self, from: Data(contentsOf: url))
    }
}

/// The hyperparameters the script trains with (see its docstring).
enum GoldenRun {
    static let hyperparameters = AdamW.Hyperparameters(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)
    static let (warmupSteps, maxGradNorm) = (2, 1.0)
    static let (loraSteps, loraLearningRate) = (8, 1e-3)
    static let (fullSteps, fullLearningRate) = (4, 1e-4)
}

/// One family's fixtures, or nil after recording a failure that says how to make them.
struct LoRAGolden {
    let family: String
    let directory: URL
    let backend = CPUBackend(threadCount: 2)

    init?(_ family: String, sourceLocation: SourceLocation = #_sourceLocation) {
        self.family = family
        directory = loraFixtures.appendingPathComponent(family)
        let needed = ["lora_trajectory.json", "full_trajectory.json", "lora_logits.safetensors", "full_final.safetensors",
                      "initial_adapter/adapter_config.json", "initial_adapter/adapter_model.safetensors",
                      "final_adapter/adapter_config.json", "final_adapter/adapter_model.safetensors"]
        let missing = needed.filter { !FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
        guard missing.isEmpty else {
            Issue.record("""
                LoRA goldens for \(family) are missing (\(missing.joined(separator: ", ")) under \(directory.path)). \
                Make them on the GPU machine with `OUT=$OUT scripts/golden/run_lora_goldens_on_gpu.sh`, unpack \
                lora-goldens.tar.gz into Tests/Fixtures and commit Tests/Fixtures/lora.
                """, sourceLocation: sourceLocation)
            return nil
        }
    }

    /// The base model of the decoder goldens.
    func model() throws -> DecoderModel {
        try DecoderModel.load(directory: fixtures.appendingPathComponent("golden/\(family)"), backend: backend)
    }

    /// The golden batch, one micro-batch per row (the script's gradient accumulation).
    func microBatches() throws -> [TokenBatch] {
        let file = try SafetensorsFile(url: fixtures.appendingPathComponent("golden/\(family)/golden.safetensors"))
        let shape = try file.info("input_ids").shape
        let ids = try backend.int32s(file.tensor("input_ids", on: backend))
        let labels = try backend.int32s(file.tensor("labels", on: backend))
        return try (0..<shape[0]).map { row in
            let range = (row * shape[1])..<((row + 1) * shape[1])
            return try TokenBatch(sequences: [Array(ids[range])], labels: [Array(labels[range])])
        }
    }

    func trajectory(_ name: String) throws -> GoldenTrajectory {
        try GoldenTrajectory(url: directory.appendingPathComponent(name))
    }

    /// Trains `steps` steps and compares each logged value with the trajectory.
    func train(_ model: DecoderModel, learningRate: Double, steps: Int, against expected: GoldenTrajectory,
               _ label: String) throws -> AdamW {
        let optimizer = try AdamW(parameters: model.trainableParameters, hyperparameters: GoldenRun.hyperparameters)
        for (parameter, decays) in zip(optimizer.parameters, optimizer.decays) {
            let name = parameter.name.replacingOccurrences(of: ".lora_A.weight", with: ".lora_A.default.weight")
                .replacingOccurrences(of: ".lora_B.weight", with: ".lora_B.default.weight")
            let golden = expected.decayParameters.contains { $0 == name || $0.hasSuffix("." + name) }
            #expect(decays == golden, "\(label): weight decay on \(parameter.name) is \(decays), HF's is \(golden)")
        }
        let schedule = LearningRateSchedule(kind: .cosine, baseLearningRate: learningRate,
                                            warmupSteps: GoldenRun.warmupSteps, totalSteps: steps)
        let batches = try microBatches()
        #expect(batches.map(\.scoredTokenCount).reduce(0, +) == expected.numItemsInBatch,
                "\(label): num_items_in_batch is the scored (shifted) targets of the accumulated batch")
        #expect(expected.steps.count == steps)
        for (step, golden) in zip(0..<steps, expected.steps) {
            let record = try trainingStep(model: model, optimizer: optimizer, schedule: schedule, microBatches: batches,
                                          step: step, maxGradNorm: GoldenRun.maxGradNorm)
            #expect(abs(record.loss - golden.loss) <= 1e-4 * abs(golden.loss),
                    "\(label) step \(golden.step): loss \(record.loss), HF \(golden.loss)")
            #expect(abs(record.gradNorm - golden.gradNorm) <= 1e-3 * abs(golden.gradNorm),
                    "\(label) step \(golden.step): grad_norm \(record.gradNorm), HF \(golden.gradNorm)")
            #expect(abs(record.learningRate - golden.learningRate) <= 1e-12 * max(golden.learningRate, 1e-30),
                    "\(label) step \(golden.step): learning rate \(record.learningRate), HF \(golden.learningRate)")
            #expect(abs(schedule.learningRate(afterSteps: step + 1) - golden.loggedLearningRate)
                <= 1e-12 * max(golden.loggedLearningRate, 1e-30), "\(label) step \(golden.step): logged learning rate")
        }
        return optimizer
    }
}

/// Fails with the tensor, its max abs diff and the scale when `max |actual − expected| / max |expected|` is too big.
func expectTensorClose(_ actual: [Float], _ expected: [Float], relativeTolerance: Double, _ label: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
    let error = relativeMaxError(expected, actual)
    if !(error <= relativeTolerance) {
        let worst = zip(actual, expected).enumerated().max { abs($0.1.0 - $0.1.1) < abs($1.1.0 - $1.1.1) }
        Issue.record("""
            \(label): relative error \(error) > \(relativeTolerance) (\(actual.count) vs \(expected.count) values; \
            worst at \(worst?.offset ?? -1): got \(worst?.element.0 ?? .nan), expected \(worst?.element.1 ?? .nan))
            """, sourceLocation: sourceLocation)
    }
}

@Suite("LoRA and full fine-tuning vs PEFT + torch goldens")
struct LoRAGoldenTests {
    static let families = ["qwen2", "llama"]

    /// PEFT's initial adapter loaded here, trained 8 steps: per-step loss within 1e-4, final A and B within 1e-3.
    @Test(arguments: families)
    func loraTrainingMatchesPEFT(family: String) throws {
        guard let golden = LoRAGolden(family) else { return }
        let model = try golden.model()
        let config = try LoRAAdapter.load(from: golden.directory.appendingPathComponent("initial_adapter"), into: model,
                                          trainable: true)
        #expect(config.lora.rank == 4 && config.lora.alpha == 8 && config.lora.dropout == 0)
        #expect(model.loraModules.count == 7 * model.config.numHiddenLayers, "all-linear: every linear but lm_head")
        _ = try golden.train(model, learningRate: GoldenRun.loraLearningRate, steps: GoldenRun.loraSteps,
                             against: try golden.trajectory("lora_trajectory.json"), "\(family) LoRA")
        let final = try SafetensorsFile(url: golden.directory.appendingPathComponent("final_adapter/adapter_model.safetensors"))
        let trained = try model.adapterParameters()
        #expect(Set(trained.map { LoRAAdapter.keyPrefix + $0.key }) == Set(final.names), "PEFT's key names")
        for (key, parameter) in trained where final.contains(LoRAAdapter.keyPrefix + key) {
            expectTensorClose(try golden.backend.floats(parameter.value),
                              try golden.backend.floats(final.tensor(LoRAAdapter.keyPrefix + key, on: golden.backend)),
                              relativeTolerance: 1e-3, "\(family) final \(key)")
        }
    }

    /// Full fine-tuning, every parameter, 4 steps at lr 1e-4: per-step loss within 1e-4, final weights within 1e-3.
    @Test(arguments: families)
    func fullFineTuningMatchesTorch(family: String) throws {
        guard let golden = LoRAGolden(family) else { return }
        let model = try golden.model()
        try model.setAllTrainable(true)
        _ = try golden.train(model, learningRate: GoldenRun.fullLearningRate, steps: GoldenRun.fullSteps,
                             against: try golden.trajectory("full_trajectory.json"), "\(family) full")
        let final = try SafetensorsFile(url: golden.directory.appendingPathComponent("full_final.safetensors"))
        #expect(Set(model.parameters.map(\.name)) == Set(final.names))
        for parameter in model.parameters where final.contains(parameter.name) {
            expectTensorClose(try golden.backend.floats(parameter.value),
                              try golden.backend.floats(final.tensor(parameter.name, on: golden.backend)),
                              relativeTolerance: 1e-3, "\(family) final \(parameter.name)")
        }
    }

    /// PEFT's adapters (B zero, then trained) loaded here give PEFT's logits, unmerged and merged.
    @Test(arguments: families)
    func adapterLogitsMatchPEFT(family: String) throws {
        guard let golden = LoRAGolden(family) else { return }
        let logits = try SafetensorsFile(url: golden.directory.appendingPathComponent("lora_logits.safetensors"))
        let batch = try TokenBatch(sequences: golden.microBatches().map(\.inputIds)).upload(to: golden.backend)
        for (adapter, name) in [("initial_adapter", "logits_initial"), ("final_adapter", "logits_final")] {
            let model = try golden.model()
            try LoRAAdapter.load(from: golden.directory.appendingPathComponent(adapter), into: model)
            let expected = try golden.backend.floats(logits.tensor(name, on: golden.backend))
            expectTensorClose(try golden.backend.floats(model.logits(batch)), expected, relativeTolerance: 1e-4,
                              "\(family) \(name)")
            try model.mergeLoRA()
            expectTensorClose(try golden.backend.floats(model.logits(batch)), expected, relativeTolerance: 1e-4,
                              "\(family) \(name), merged")
        }
    }

    /// What PEFT wrote and what this writes: the same config keys and values, the same tensor keys and shapes.
    @Test(arguments: families)
    func adapterFilesMatchWhatPEFTWrites(family: String) throws {
        guard let golden = LoRAGolden(family) else { return }
        let peftDirectory = golden.directory.appendingPathComponent("initial_adapter")
        let model = try golden.model()
        try LoRAAdapter.load(from: peftDirectory, into: model)
        let ours = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-golden-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: ours) }
        try LoRAAdapter.save(from: model, to: ours, baseModelNameOrPath: "Tests/Fixtures/golden/\(family)")
        func json(_ directory: URL) throws -> [String: Any] {
            let data = try Data(contentsOf: directory.appendingPathComponent(LoRAAdapter.configFileName))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        let (theirs, mine) = (try json(peftDirectory), try json(ours))
        #expect(Set(mine.keys) == Set(theirs.keys),
                "keys only here: \(Set(mine.keys).subtracting(theirs.keys).sorted()), only in PEFT's: \(Set(theirs.keys).subtracting(mine.keys).sorted())")
        for key in ["r", "lora_alpha", "lora_dropout", "bias", "task_type", "peft_type", "use_rslora", "use_dora",
                    "inference_mode", "fan_in_fan_out", "init_lora_weights", "modules_to_save", "layers_to_transform",
                    "base_model_name_or_path", "exclude_modules", "rank_pattern", "alpha_pattern", "megatron_core"] {
            #expect("\(mine[key] ?? "absent")" == "\(theirs[key] ?? "absent")", "adapter_config.json \"\(key)\"")
        }
        let peftFile = try SafetensorsFile(url: peftDirectory.appendingPathComponent(LoRAAdapter.weightsFileName))
        let ourFile = try SafetensorsFile(url: ours.appendingPathComponent(LoRAAdapter.weightsFileName))
        #expect(ourFile.names.sorted() == peftFile.names.sorted())
        for name in peftFile.names where ourFile.contains(name) {
            #expect(try ourFile.info(name).shape == peftFile.info(name).shape, "\(name)")
            #expect(try golden.backend.floats(ourFile.tensor(name, on: golden.backend))
                == golden.backend.floats(peftFile.tensor(name, on: golden.backend)), "\(name) round-trips exactly")
        }
    }
}
