import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneData
import SwiftTuneModels
@testable import SwiftTuneTraining

/// `RLHF.run` end to end on the tiny qwen2: every `--rlhf_type` trains, logs TRL's metric names in `logging.jsonl`
/// and saves checkpoints as `sft` does; bad flag combinations fail before a run folder exists.
@Suite struct RLHFTests {
    static let pairRows = [("What is 2+2?", "4", "5"), ("Name a color.", "Blue", "Loud"), ("Say hi.", "Hi!", "Bye."),
                           ("Capital of France?", "Paris", "Berlin"), ("A fruit?", "Apple", "Rock"),
                           ("Count to three.", "1, 2, 3", "3, 2, 1")]

    /// A JSONL file of pairs (`messages` + `rejected_response`) or KTO rows (`messages` + `label`).
    static func dataset(in folder: URL, kto: Bool = false, oneClass: Bool = false) throws -> DatasetSpec {
        let lines = pairRows.enumerated().map { i, row -> String in
            let desirable = oneClass || i % 2 == 0
            let answer = kto && !desirable ? row.2 : row.1
            let messages = #"[{"role": "user", "content": "\#(row.0)"}, {"role": "assistant", "content": "\#(answer)"}]"#
            return kto ? #"{"messages": \#(messages), "label": \#(desirable)}"# : #"{"messages": \#(messages), "rejected_response": "\#(row.2)"}"#
        }
        let url = folder.appendingPathComponent(kto ? "kto.jsonl" : "pairs.jsonl")
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return try DatasetSpec.parse(url.path)
    }

    static func options(_ type: RLHFType, output: URL, data: DatasetSpec) throws -> RLHFOptions {
        var training = SFTOptions(model: SFTTests.tinyModel, datasets: [data])
        training.lora = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0)
        training.training.maxSteps = 4
        training.training.perDeviceTrainBatchSize = 2
        training.training.gradientAccumulationSteps = 1
        training.training.learningRate = 5e-3
        training.training.saveSteps = 2
        training.training.loggingSteps = 1
        training.training.outputDir = output.path
        return RLHFOptions(training: training, preference: PreferenceOptions(rlhfType: type))
    }

    static func records(_ run: URL) throws -> [[String: Any]] {
        try String(contentsOf: run.appendingPathComponent("logging.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The keys TRL (and so ms-swift) logs for each type, besides loss, grad_norm and learning_rate.
    static let loggedKeys: [RLHFType: [String]] = [
        .dpo: ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen",
               "logps/rejected", "logits/chosen", "logits/rejected"],
        .kto: ["kl", "rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen", "logps/rejected"],
        .cpo: ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "nll_loss"],
        .simpo: ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "nll_loss"],
        .orpo: ["rewards/accuracies", "rewards/margins", "nll_loss", "log_odds_ratio", "log_odds_chosen"],
        .rm: ["min_reward", "mean_reward", "max_reward", "accuracy", "margin"],
    ]

    @Test(arguments: RLHFType.allCases)
    func everyTypeTrainsLogsTRLNamesAndCheckpoints(type: RLHFType) throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let options = try Self.options(type, output: output.appendingPathComponent("runs"),
                                       data: Self.dataset(in: output, kto: type == .kto))
        let result = try RLHF.run(options, backend: CPUBackend(threadCount: 2))
        let run = result.runFolder
        for file in ["args.json", "images/train_loss.svg", "checkpoint-2/adapter_model.safetensors",
                     "checkpoint-4/adapter_config.json", "checkpoint-4/optimizer.safetensors", "checkpoint-4/trainer_state.json"] {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), "\(type): missing \(file)")
        }
        let records = try Self.records(run)
        #expect(records.count == 5, "\(type): four steps and the summary")
        // TRL logs a KTO side's metrics only for steps whose rows had that side, so look over every step.
        let logged = Set(records.dropLast().flatMap { $0.filter { $0.value is Double }.map(\.key) })
        for key in ["loss", "grad_norm", "learning_rate"] + (Self.loggedKeys[type] ?? []) {
            #expect(logged.contains(key), "\(type): logging.jsonl has no \(key): \(logged.sorted())")
        }
        let arguments = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("args.json"))) as? [String: Any]
        #expect(arguments?["rlhf_type"] as? String == type.rawValue && arguments?["beta"] as? Double == type.defaultBeta)
        let config = try LoRAAdapter.loadConfig(from: run.appendingPathComponent("checkpoint-4"))
        #expect(config.taskType == (type == .rm ? .sequenceClassification : .causalLM))
    }

    @Test func dpoLearnsThePreference() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        var options = try Self.options(.dpo, output: output, data: Self.dataset(in: output))
        options.training.training.maxSteps = 12
        options.training.training.saveSteps = 12
        let records = try Self.records(RLHF.run(options, backend: CPUBackend(threadCount: 2)).runFolder).dropLast()
        let margins = records.compactMap { $0["rewards/margins"] as? Double }
        #expect(margins.count == 12 && margins[11] > margins[0] && margins[11] > 0, "margins \(margins)")
        #expect((records.last?["rewards/accuracies"] as? Double ?? 0) > 0.5)
        #expect(records.first?["loss"] as? Double == 0.69314718, "log 2 at the start: policy = reference")
    }

    @Test func precomputedAndSeparateReferencesGiveTheAdapterOffRun() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let data = try Self.dataset(in: output)
        func losses(_ edit: (inout RLHFOptions) -> Void) throws -> [Double] {
            var options = try Self.options(.dpo, output: output.appendingPathComponent("runs"), data: data)
            edit(&options)
            return try Self.records(RLHF.run(options, backend: CPUBackend(threadCount: 2)).runFolder).dropLast()
                .compactMap { $0["loss"] as? Double }
        }
        let adapterOff = try losses { _ in }
        let precomputed = try losses { $0.preference.precomputeRefLogProbs = true }
        let separate = try losses { $0.refModel = SFTTests.tinyModel }
        for (name, other) in [("precomputed", precomputed), ("ref_model", separate)] {
            #expect(zip(adapterOff, other).allSatisfy { abs($0 - $1) < 1e-5 }, "\(name): \(other) vs \(adapterOff)")
        }
    }

    /// Full fine-tuning: DPO's reference is the initial model, precomputed (the first step's loss is log 2); a
    /// reward model's checkpoint is an HF sequence classifier (`score.weight`, `…ForSequenceClassification`).
    @Test func fullFineTuningDPOAndRewardModel() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let data = try Self.dataset(in: output)
        var dpo = try Self.options(.dpo, output: output.appendingPathComponent("runs"), data: data)
        dpo.training.trainType = .full
        dpo.training.training.learningRate = 1e-3
        let records = try Self.records(RLHF.run(dpo, backend: CPUBackend(threadCount: 2)).runFolder).dropLast()
        // log 2 up to f32 rounding: the precomputed reference pass batches the rows differently from the training
        // pass, and a BLAS may round a row by its place in a batch (OpenBLAS on AMD EPYC: ~1e-7).
        let first = records.first?["loss"] as? Double ?? 0
        #expect(abs(first - 0.69314718) < 1e-6 && (records.last?["loss"] as? Double ?? 1) < 0.69314718,
                "\(records.map { $0["loss"] ?? "" })")
        var rm = try Self.options(.rm, output: output.appendingPathComponent("runs"), data: data)
        rm.training.trainType = .full
        let run = try RLHF.run(rm, backend: CPUBackend(threadCount: 2)).runFolder
        let checkpoint = run.appendingPathComponent("checkpoint-4")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: checkpoint.appendingPathComponent("config.json")))
            as? [String: Any]
        #expect(config?["architectures"] as? [String] == ["Qwen2ForSequenceClassification"])
        #expect((config?["id2label"] as? [String: String])?.count == 1)
        let weights = try ModelWeights(directory: checkpoint)
        #expect(weights.contains("score.weight") && weights.contains("model.norm.weight"))
    }

    @Test func badCombinationsFailBeforeARunFolder() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let runs = output.appendingPathComponent("runs")
        let pairs = try Self.dataset(in: output), kto = try Self.dataset(in: output, kto: true)
        func failure(_ type: RLHFType, data: DatasetSpec? = nil, _ edit: (inout RLHFOptions) -> Void) throws -> String {
            var options = try Self.options(type, output: runs, data: data ?? pairs)
            edit(&options)
            do { _ = try RLHF.run(options, backend: CPUBackend(threadCount: 2)) } catch { return "\(error)" }
            return "no error"
        }
        #expect(try failure(.cpo) { $0.refModel = SFTTests.tinyModel }.contains("--ref_model and --rlhf_type cpo"))
        #expect(try failure(.dpo) { $0.training.data.packing = true; $0.training.data.maxLength = 64 }.contains("--packing"))
        #expect(try failure(.kto, data: kto) { $0.training.training.perDeviceTrainBatchSize = 1 }
            .contains("per_device_train_batch_size 1"))
        let oneClass = try Self.dataset(in: output.appendingPathComponent("one-class-\(UUID())", isDirectory: true)
            .creatingFolder(), kto: true, oneClass: true)
        #expect(try failure(.kto, data: oneClass) { _ in }.contains("label true (desirable) and label false"))
        // A reference with 320 tokens (the tiny llama's weights with a tokenizer) against the policy's 300.
        let llama = try output.appendingPathComponent("llama", isDirectory: true).creatingFolder()
        let golden = SFTTests.tinyModel.deletingLastPathComponent()
        for (folder, file) in [("llama", "config.json"), ("llama", "model.safetensors"), ("qwen2", "tokenizer.json"),
                               ("qwen2", "tokenizer_config.json")] {
            try FileManager.default.copyItem(at: golden.appendingPathComponent(folder).appendingPathComponent(file),
                                             to: llama.appendingPathComponent(file))
        }
        let vocabulary = try failure(.dpo) { $0.refModel = llama }
        #expect(vocabulary.contains("300") && vocabulary.contains("320"), "\(vocabulary)")
        #expect(try failure(.dpo) { $0.preference.lossTypes = ["sigmoid", "ipo"]; $0.preference.lossWeights = [1] }
            .contains("loss_weights"))
        #expect(try failure(.dpo) { $0.preference.lossTypes = ["kto_pair"] }.contains("one of sigmoid"))
        #expect(try failure(.dpo) { $0.preference.lossTypes = ["exo_pair"] }.contains("label_smoothing"))
        #expect(!FileManager.default.fileExists(atPath: runs.path), "no run folder for failed runs")
    }

    @Test func onlineRLTypesPointElsewhere() {
        #expect {
            try RLHFType.parse("grpo")
        } throws: { "\($0)".contains("GRPO.run") && "\($0)".contains("dpo, kto, cpo, simpo, orpo, rm") }
        #expect {
            try RLHFType.parse("ppo")
        } throws: { "\($0)".contains("not yet supported") }
    }
}

extension URL {
    func creatingFolder() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}
