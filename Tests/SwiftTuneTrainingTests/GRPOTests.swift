import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneCPU
import SwiftTuneData
import SwiftTuneJSON
import SwiftTuneModels
@testable import SwiftTuneTraining

/// `GRPO.run` end to end on the tiny qwen2: sampling with the engine, rewards, advantages, the policy step, TRL's
/// metric names in `logging.jsonl`, and completions whose rewards are the named functions'.
@Suite struct GRPOTests {
    static let rows = [("What is 2+2?", "4"), ("What is 3+5?", "8"), ("What is 10-7?", "3"), ("What is 2*6?", "12")]

    static func dataset(in folder: URL, solution: Bool = true) throws -> DatasetSpec {
        let url = folder.appendingPathComponent("math.jsonl")
        try rows.map { q, a in
            #"{"messages": [{"role": "user", "content": "\#(q)"}]\#(solution ? #", "solution": "\#(a)""# : "")}"#
        }.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return try DatasetSpec.parse(url.path)
    }

    static func options(output: URL, data: DatasetSpec, rewards: [String], steps: Int = 3) -> GRPORunOptions {
        var training = SFTOptions(model: SFTTests.tinyModel, datasets: [data])
        training.lora = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0)
        training.training.maxSteps = steps
        training.training.perDeviceTrainBatchSize = 8  // completions: 2 prompts × G 4
        training.training.gradientAccumulationSteps = 1
        training.training.learningRate = 1e-2
        training.training.saveSteps = steps
        training.training.loggingSteps = 1
        training.training.outputDir = output.path
        var grpo = GRPOOptions()
        grpo.numGenerations = 4
        grpo.maxCompletionLength = 8
        grpo.loss.maxCompletionLength = 8
        grpo.temperature = 1.0
        grpo.logCompletions = true
        var settings = RewardSettings()
        settings.softCacheLength = 4
        return GRPORunOptions(training: training, grpo: grpo, rewardFuncs: rewards, rewardSettings: settings)
    }

    static func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func trainsLogsTRLMetricsAndRewardsComeFromTheirFunctions() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = Self.options(output: folder.appendingPathComponent("runs"), data: try Self.dataset(in: folder),
                                   rewards: ["soft_overlong", "repetition", "accuracy"])
        options.grpo.rewardWeights = [1, 0.5, 1]
        let result = try GRPO.run(options, backend: CPUBackend(threadCount: 2))
        let run = result.runFolder
        let records = try Self.lines(run.appendingPathComponent("logging.jsonl"))
        #expect(records.count == 4, "three steps and the summary")
        let keys = ["loss", "grad_norm", "learning_rate", "reward", "reward_std", "frac_reward_zero_std",
                    "rewards/soft_overlong/mean", "rewards/soft_overlong/std", "rewards/repetition/mean",
                    "rewards/accuracy/mean", "completions/mean_length", "completions/clipped_ratio",
                    "completions/max_length", "kl", "clip_ratio/region_mean", "clip_ratio/low_mean",
                    "time/generate", "time/score", "time/train"]
        for record in records.dropLast() {
            for key in keys {
                let value = record[key] as? Double
                #expect(value?.isFinite == true, "logging.jsonl: \(key) = \(String(describing: record[key]))")
            }
        }
        // On-policy (μ = 1): the ratio is 1, nothing is clipped.
        #expect(records.dropLast().allSatisfy { ($0["clip_ratio/region_mean"] as? Double) == 0 })
        let completions = try Self.lines(run.appendingPathComponent("completions.jsonl"))
        #expect(completions.count == 3 * 8, "3 steps × 2 prompts × 4 completions")
        // Each logged reward is its function's value on the logged completion.
        let overlong = try BuiltinRewards.make("soft_overlong", settings: options.rewardSettings.with(maxCompletionLength: 8))
        let repetition = try BuiltinRewards.make("repetition", settings: options.rewardSettings)
        for line in completions {
            let text = try #require(line["completion"] as? String)
            let tokens = try #require(line["completion_tokens"] as? Int)
            #expect((1...8).contains(tokens))
            let sample = RewardSample(prompt: "", completion: text, completionTokenCount: tokens)
            #expect(line["soft_overlong"] as? Double == (try overlong.rewards([sample]))[0], "\(line)")
            #expect(line["repetition"] as? Double == (try repetition.rewards([sample]))[0], "\(line)")
            #expect((line["advantage"] as? Double)?.isFinite == true)
        }
        // The logged means are the completions' means, step by step.
        for step in 1...3 {
            let mine = completions.filter { $0["step"] as? Int == step }
            let mean = mine.compactMap { $0["soft_overlong"] as? Double }.reduce(0, +) / Double(mine.count)
            let logged = try #require(records[step - 1]["rewards/soft_overlong/mean"] as? Double)
            #expect(abs(mean - logged) < 1e-6, "step \(step): mean \(mean), logged \(logged)")
            let lengths = mine.compactMap { $0["completion_tokens"] as? Int }
            let meanLength = Double(lengths.reduce(0, +)) / Double(lengths.count)
            #expect(abs(meanLength - (records[step - 1]["completions/mean_length"] as? Double ?? -1)) < 1e-6)
        }
        let arguments = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("args.json"))) as? [String: Any]
        #expect(arguments?["rlhf_type"] as? String == "grpo" && arguments?["num_generations"] as? Int == 4
            && arguments?["per_device_train_batch_size"] as? Int == 8)
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoint-3/adapter_model.safetensors").path))
    }

    /// μ = 2: each generation batch serves two optimizer steps, the second against the kept sampling log-probabilities.
    @Test func numIterationsReusesTheGenerationBatch() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = Self.options(output: folder.appendingPathComponent("runs"), data: try Self.dataset(in: folder),
                                   rewards: ["soft_overlong"], steps: 4)
        options.grpo.numIterations = 2
        options.training.training.learningRate = 5e-2
        let result = try GRPO.run(options, backend: CPUBackend(threadCount: 2))
        let completions = try Self.lines(result.runFolder.appendingPathComponent("completions.jsonl"))
        #expect(Set(completions.compactMap { $0["step"] as? Int }) == [1, 3], "generation at steps 1 and 3 only")
        let records = try Self.lines(result.runFolder.appendingPathComponent("logging.jsonl")).dropLast()
        #expect(records.count == 4)
        for (i, record) in records.enumerated() {
            #expect((record["loss"] as? Double)?.isFinite == true)
            if i % 2 == 1 {
                #expect(record["time/generate"] as? Double == 0, "step \(i + 1) reuses the batch")
                #expect(record["reward"] as? Double == records[i - 1]["reward"] as? Double)
            }
        }
    }

    @Test func aRewardCommandScoresEveryCompletion() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = Self.options(output: folder.appendingPathComponent("runs"), data: try Self.dataset(in: folder),
                                   rewards: [], steps: 1)
        options.grpo.loss.beta = 0
        // The reward: completion_tokens read back from the JSON line (sh's read takes a pipe line by line).
        options.rewardCommand = #"while IFS= read -r line; do t=${line#*\"completion_tokens\": }; echo "${t%%,*}"; done"#
        let result = try GRPO.run(options, backend: CPUBackend(threadCount: 2))
        let completions = try Self.lines(result.runFolder.appendingPathComponent("completions.jsonl"))
        #expect(completions.count == 8)
        for line in completions {
            let tokens = try #require(line["completion_tokens"] as? Int)
            #expect(line["reward_command"] as? Double == Double(tokens), "\(line)")
        }
        let records = try Self.lines(result.runFolder.appendingPathComponent("logging.jsonl"))
        #expect((records.first?["rewards/reward_command/mean"] as? Double)?.isFinite == true)
        #expect(records.first?["kl"] == nil, "β 0 logs no kl")
    }

    @Test func aFailingRewardCommandStopsTheRunWithItsOutput() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Self.dataset(in: folder)
        for (command, needles) in [("echo broken >&2; exit 3", ["exited (status 3)", "broken"]),
                                   (#"while read -r line; do echo zero; done"#, ["answered \"zero\"", "math.jsonl:"])] {
            var options = Self.options(output: folder.appendingPathComponent("runs"), data: data, rewards: [], steps: 1)
            options.rewardCommand = command
            do {
                _ = try GRPO.run(options, backend: CPUBackend(threadCount: 2))
                Issue.record("\(command): the run did not stop")
            } catch {
                for needle in needles { #expect("\(error)".contains(needle), "\(command): \(error)") }
            }
        }
    }

    @Test func badOptionsAreRefusedBeforeSampling() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("runs")
        var options = Self.options(output: output, data: try Self.dataset(in: folder, solution: false), rewards: ["accuracy"])
        #expect { try GRPO.run(options, backend: CPUBackend(threadCount: 2)) } throws: { error in
            "\(error)".contains("accuracy") && "\(error)".contains("solution or answer") && "\(error)".contains("math.jsonl:1")
        }
        options = Self.options(output: output, data: try Self.dataset(in: folder), rewards: ["format"])
        options.grpo.numGenerations = 1
        #expect { try GRPO.run(options, backend: CPUBackend(threadCount: 2)) } throws: { "\($0)".contains("num_generations") }
        options = Self.options(output: output, data: try Self.dataset(in: folder), rewards: ["format"])
        options.grpo.rewardWeights = [1, 2]
        #expect { try GRPO.run(options, backend: CPUBackend(threadCount: 2)) } throws: { "\($0)".contains("reward_weights") }
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }
}

extension RewardSettings {
    func with(maxCompletionLength: Int) -> RewardSettings {
        var copy = self
        copy.maxCompletionLength = maxCompletionLength
        return copy
    }
}

/// A sampler that hands out scripted completions: round r of prompt p gets `script(p, r)`.
final class ScriptedSampler: CompletionSampler {
    var calls: [[[Int32]]] = []
    let script: (_ prompt: [Int32], _ call: Int, _ index: Int) -> SampledCompletion

    init(_ script: @escaping (_ prompt: [Int32], _ call: Int, _ index: Int) -> SampledCompletion) { self.script = script }

    func sample(_ prompts: [[Int32]], count: Int, seeds: [UInt64]) throws -> [SampledCompletion] {
        calls.append(prompts)
        let call = calls.count - 1
        return prompts.flatMap { p in (0..<count).map { script(p, call, $0) } }
    }
}

/// A reward equal to the completion's token count.
struct LengthReward: RewardFunction {
    var name: String { "length" }
    func rewards(_ samples: [RewardSample]) throws -> [Double] { samples.map { Double($0.completionTokenCount) } }
}

@Suite struct GRPOGenerationBatchTests {
    static let prompts = [GRPOPrompt(promptIDs: [1, 2], text: "a"), GRPOPrompt(promptIDs: [3, 4], text: "b")]

    func makeObjective(_ sampler: ScriptedSampler, configure: (inout GRPOOptions) -> Void) throws -> GRPOObjective {
        var options = GRPOOptions()
        options.numGenerations = 2
        options.loss.beta = 0
        configure(&options)
        return try GRPOObjective(prompts: Self.prompts, options: options, rewards: [LengthReward()], sampler: sampler,
                                 reference: nil, disableAdaptersForReference: true)
    }

    /// DAPO's dynamic sampling: a group whose rewards are all equal is replaced by a fresh group of its prompt.
    @Test func dynamicSamplingReplacesGroupsWithEqualRewards() throws {
        // Prompt [1, 2] gets equal lengths on the first call; every later call and the other prompt differ.
        let sampler = ScriptedSampler { prompt, call, g in
            let equal = prompt == [1, 2] && call == 0
            return SampledCompletion(tokenIDs: Array(repeating: 5, count: equal ? 3 : 2 + g), text: "x", terminated: true)
        }
        let objective = try makeObjective(sampler) { $0.dynamicSample = true }
        let (batch, metrics) = try objective.generationBatch([[0, 1]], step: 0, runSeed: 1)
        #expect(sampler.calls == [[[1, 2], [3, 4]], [[1, 2]]], "one resampling round for the equal group: \(sampler.calls)")
        #expect(batch.count == 1 && batch[0].count == 4)
        #expect(metrics["frac_reward_zero_std"] == 0)
        #expect(batch[0].allSatisfy { abs($0.advantage) > 0.5 })
        // Without it the equal group stays, with advantages 0.
        let plain = ScriptedSampler { prompt, call, g in
            SampledCompletion(tokenIDs: Array(repeating: 5, count: prompt == [1, 2] ? 3 : 2 + g), text: "x", terminated: true)
        }
        let (kept, keptMetrics) = try makeObjective(plain) { _ in }.generationBatch([[0, 1]], step: 0, runSeed: 1)
        #expect(plain.calls.count == 1 && keptMetrics["frac_reward_zero_std"] == 0.5)
        #expect(kept[0][0].advantage == 0 && kept[0][1].advantage == 0)
    }

    /// `--overlong_filter`: completions cut by the length budget stay in the batch (and its advantages) but carry
    /// no loss; micro-batches keep the trainer's sizes.
    @Test func overlongFilterMasksTruncatedCompletions() throws {
        let sampler = ScriptedSampler { _, _, g in
            SampledCompletion(tokenIDs: Array(repeating: 5, count: 2 + g), text: "x", terminated: g == 0)
        }
        let objective = try makeObjective(sampler) { $0.overlongFilter = true }
        let (batch, metrics) = try objective.generationBatch([[0], [1]], step: 0, runSeed: 1)
        #expect(batch.map(\.count) == [2, 2])
        #expect(batch.flatMap { $0.map(\.inLoss) } == [true, false, true, false])
        #expect(metrics["completions/clipped_ratio"] == 0.5 && metrics["completions/mean_length"] == 2.5)
        let scores = batch[0].map { GRPOCompletionScores(logps: $0.completionIDs.map { _ in -1 }, advantage: $0.advantage, inLoss: $0.inLoss) }
        let result = GRPOLoss.loss(scores, options: GRPOLossOptions())
        #expect(result.tokenDerivatives[1].allSatisfy { $0 == 0 } && result.tokenDerivatives[0].allSatisfy { $0 != 0 })
    }

    /// Seeds differ per prompt, completion and step, and repeat for the same ones.
    @Test func seedsArePerSequenceAndReproducible() {
        let a = GRPOObjective.seed(run: 42, step: 3, prompt: 1, generation: 0)
        #expect(a == GRPOObjective.seed(run: 42, step: 3, prompt: 1, generation: 0))
        let others = [GRPOObjective.seed(run: 42, step: 3, prompt: 1, generation: 1), GRPOObjective.seed(run: 42, step: 4, prompt: 1, generation: 0),
                      GRPOObjective.seed(run: 42, step: 3, prompt: 2, generation: 0), GRPOObjective.seed(run: 43, step: 3, prompt: 1, generation: 0)]
        #expect(Set(others + [a]).count == 5)
    }
}

extension GRPOGenerationBatchTests {
    /// μ = 3: the trainer sees every prompt three times per epoch; generation batches still cover each prompt once.
    @Test func numIterationsCoversEveryPromptOncePerEpoch() throws {
        let prompts = (0..<6).map { GRPOPrompt(promptIDs: [Int32($0) + 1], text: "\($0)") }
        var options = GRPOOptions()
        options.numGenerations = 2
        options.loss.beta = 0
        options.numIterations = 3
        let objective = try GRPOObjective(prompts: prompts, options: options, rewards: [LengthReward()],
                                          sampler: ScriptedSampler { _, _, _ in SampledCompletion(tokenIDs: [1], text: "", terminated: true) },
                                          reference: nil, disableAdaptersForReference: true)
        #expect(objective.trainCount == 18)
        let shape = [[0, 0]]  // two prompts per generation batch
        let epoch = [0, 3, 6].flatMap { objective.promptsForGeneration(step: $0, shape: shape, runSeed: 5).flatMap { $0 } }
        #expect(epoch.sorted() == Array(0..<6), "\(epoch)")
        #expect(objective.promptsForGeneration(step: 4, shape: shape, runSeed: 5) == objective.promptsForGeneration(step: 3, shape: shape, runSeed: 5))
    }
}
