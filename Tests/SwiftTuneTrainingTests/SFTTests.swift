import Foundation
import Testing
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneData
import SwiftTuneModels
@testable import SwiftTuneTraining

/// Stops a run after a given step, as SIGINT would.
final class StopAfter: TrainingObserver {
    let step: Int
    let stop: StopSignal
    init(step: Int, stop: StopSignal) { (self.step, self.stop) = (step, stop) }
    func stepFinished(step: Int, totalSteps: Int, loss: Double?, learningRate: Double, tokensPerSecond: Double) {
        if step == self.step { stop.receive() }
    }
}

@Suite struct SFTTests {
    static let tinyModel = PEFTInteropTests.fixtures.appendingPathComponent("golden/qwen2")

    static func options(output: URL, steps: Int) throws -> SFTOptions {
        var options = SFTOptions(model: tinyModel, datasets: [try DatasetSpec.parse("self-cognition#16")])
        options.data.modelName = ["小T", "Tiny"]
        options.data.modelAuthor = ["实验室", "Lab"]
        options.data.maxLength = 512
        options.lora = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.1)
        options.training.maxSteps = steps
        options.training.perDeviceTrainBatchSize = 2
        options.training.gradientAccumulationSteps = 2
        options.training.learningRate = 5e-3
        options.training.warmupSteps = 1
        options.training.saveSteps = 3
        options.training.loggingSteps = 1
        options.training.outputDir = output.path
        return options
    }

    static func adapter(_ checkpoint: URL) throws -> [String: [Float]] {
        let backend = CPUBackend()
        let file = try SafetensorsFile(url: checkpoint.appendingPathComponent("adapter_model.safetensors"))
        var tensors: [String: [Float]] = [:]
        for name in file.names { tensors[name] = try backend.floats(file.tensor(name, on: backend)) }
        return tensors
    }

    @Test func writesMsSwiftRunFolderAndLossFalls() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try SFT.run(try Self.options(output: output, steps: 6), backend: CPUBackend())
        let run = result.runFolder
        #expect(run.lastPathComponent.hasPrefix("v0-"))
        for file in ["args.json", "logging.jsonl", "images/train_loss.svg", "images/train_learning_rate.svg",
                     "checkpoint-3/adapter_config.json", "checkpoint-3/adapter_model.safetensors",
                     "checkpoint-6/optimizer.safetensors", "checkpoint-6/trainer_state.json", "checkpoint-6/args.json"] {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), "missing \(file)")
        }
        let arguments = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("args.json"))) as? [String: Any]
        #expect(arguments?["lora_rank"] as? Int == 4)
        #expect(arguments?["dataset"] as? [String] == ["self-cognition#16"])
        #expect(arguments?["gradient_accumulation_steps"] as? Int == 2)
        let lines = try String(contentsOf: run.appendingPathComponent("logging.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 7, "six step records and the summary")
        let losses = lines.compactMap { line -> Double? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["loss"] as? Double
        }
        #expect(losses.count == 6 && losses[5] < losses[0], "loss should fall: \(losses)")
        #expect(lines[0].hasPrefix(#"{"loss": "#) && lines[0].contains(#""global_step/max_steps": "1/6""#))
        #expect(result.summary.lastCheckpoint?.lastPathComponent == "checkpoint-6")
    }

    @Test func resumeAfterAStopGivesTheSameWeightsBitForBit() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let straight = try SFT.run(try Self.options(output: output.appendingPathComponent("a"), steps: 6), backend: CPUBackend())

        let stop = StopSignal(signals: [])
        let interrupted = try SFT.run(try Self.options(output: output.appendingPathComponent("b"), steps: 6),
                                      backend: CPUBackend(), stop: stop, observer: StopAfter(step: 2, stop: stop))
        #expect(interrupted.summary.stopped && interrupted.summary.globalStep == 2)
        let checkpoint = try #require(interrupted.summary.lastCheckpoint)
        #expect(checkpoint.lastPathComponent == "checkpoint-2")

        var options = try Self.options(output: output.appendingPathComponent("c"), steps: 6)
        options.training.resumeFromCheckpoint = checkpoint.path
        let resumed = try SFT.run(options, backend: CPUBackend())
        #expect(resumed.summary.globalStep == 6)
        let a = try Self.adapter(try #require(straight.summary.lastCheckpoint))
        let c = try Self.adapter(try #require(resumed.summary.lastCheckpoint))
        #expect(a.keys.sorted() == c.keys.sorted())
        for key in a.keys.sorted() { #expect(a[key] == c[key], "\(key) differs after resume") }
    }

    @Test func badInputFailsBeforeTraining() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        var missing = try Self.options(output: output, steps: 2)
        missing.model = output.appendingPathComponent("no-such-model")
        #expect(throws: TrainingError.self) { try SFT.run(missing, backend: CPUBackend()) }

        var conflicting = try Self.options(output: output, steps: 2)
        conflicting.training.warmupRatio = 0.1
        #expect(throws: TrainingError.conflictingArguments("warmup_ratio", "warmup_steps", hint: "give one of them")) {
            try SFT.run(conflicting, backend: CPUBackend())
        }

        var untrainable = try Self.options(output: output, steps: 2)
        untrainable.data.maxLength = 6
        untrainable.data.truncationStrategy = .right  // only the prompt survives: no assistant token is scored
        #expect(throws: TrainingError.self) { try SFT.run(untrainable, backend: CPUBackend()) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty, "no run folder for failed runs")
    }

    @Test func resumingWithAnotherAdapterShapeIsRefused() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let first = try SFT.run(try Self.options(output: output, steps: 3), backend: CPUBackend())
        var other = try Self.options(output: output, steps: 6)
        other.lora.rank = 8
        other.training.resumeFromCheckpoint = try #require(first.summary.lastCheckpoint).path
        #expect(throws: TrainingError.self) { try SFT.run(other, backend: CPUBackend()) }
    }
}
