import ArgumentParser
import Foundation
import SwiftTuneChat
import SwiftTuneData
import SwiftTuneRunFiles
import SwiftTuneTensor
import SwiftTuneTraining

/// `swift-tune sft`: supervised fine-tuning (LoRA or full) with ms-swift's flags.
struct SFTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning, LoRA or full, with ms-swift's flags.",
        discussion: """
            Example: swift-tune sft --model path/to/model --dataset data.jsonl#500 --lora_rank 8 --max_steps 100
            A YAML or JSON file of flags may come first (swift-tune sft cfg.yaml --lora_rank 16); flags override it.
            """)

    @OptionGroup var flags: TrainFlags

    func run() async throws { try await TrainCommandRunner(flags: flags, pretraining: false).run() }
}

/// `swift-tune pt`: continued pre-training: `sft` with `--use_chat_template false --loss_scale all` by default.
struct PTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pt",
        abstract: "Pre-training on plain text: sft with --use_chat_template false --loss_scale all.")

    @OptionGroup var flags: TrainFlags

    func run() async throws { try await TrainCommandRunner(flags: flags, pretraining: true).run() }
}

/// The flags `sft` and `pt` share (all of them).
struct TrainFlags: ParsableArguments {
    @OptionGroup var model: ModelOptions
    @OptionGroup var hub: HubFlags
    @OptionGroup var data: DataOptions
    @OptionGroup var tuner: TunerOptions
    @OptionGroup var training: TrainingOptions
}

/// The shared body of `sft` and `pt`: flags → `SFTOptions`, pick the backend, run, render.
struct TrainCommandRunner {
    let flags: TrainFlags
    let pretraining: Bool
    var model: ModelOptions { flags.model }
    var hub: HubFlags { flags.hub }
    var data: DataOptions { flags.data }
    var tuner: TunerOptions { flags.tuner }
    var training: TrainingOptions { flags.training }

    func run() async throws {
        let options = try await sftOptions()
        let backend = try model.backend()
        let stop = StopSignal()
        defer { stop.cancel() }
        let progress = ConsoleTrainingObserver()
        let result = try SFT.run(options, backend: backend, stop: stop, observer: progress) { print($0) }
        progress.finish()
        Self.printSummary(result)
    }

    static func printSummary(_ result: SFTResult) {
        let summary = result.summary
        print("run folder: \(result.runFolder.path)")
        if summary.stopped { print("stopped at step \(summary.globalStep) of \(summary.totalSteps) by a signal") }
        print("last checkpoint: \(summary.lastCheckpoint?.path ?? "none")")
        print("best checkpoint: \(summary.bestCheckpoint?.path ?? "none")")
    }

    /// The flags as the library's options (the model and datasets resolved to local paths).
    func sftOptions() async throws -> SFTOptions {
        guard let modelSpec = model.model else {
            throw ValidationError("--model is required (an HF model folder, a .gguf file or a hub id ORG/NAME)")
        }
        let modelPath = try await hub.resolveModel(modelSpec)
        var options = SFTOptions(model: modelPath, datasets: try await hub.resolveDatasets(data.datasetSpecs()))
        options.trainType = tuner.resolvedTrainType
        options.lora = tuner.loraConfiguration
        options.adapters = tuner.adapters.first.map { URL(fileURLWithPath: $0) }
        options.data = try data.datasetOptions(system: model.system, defaultLossScale: pretraining ? .all : .default,
                                               defaultUseChatTemplate: !pretraining)
        options.templateName = model.template
        options.training = try training.trainingArguments()
        options.isPretraining = pretraining
        options.torchDtype = model.torchDtype
        options.fourBit = tuner.fourBitQuantization
        options.offloadEmbedding = tuner.offloadEmbedding ?? false
        if let compute = tuner.bnb4BitComputeDtype {
            if let dtype = model.torchDtype, dtype != compute {
                throw ValidationError("--bnb_4bit_compute_dtype \(compute) and --torch_dtype \(dtype) disagree; the 4-bit "
                                      + "weights decode to the model's dtype, so give one of them")
            }
            options.torchDtype = compute
        }
        return options
    }
}

/// Shows a run on the terminal: a progress bar on standard error and each log record on standard output
/// (as ms-swift prints its log dicts).
final class ConsoleTrainingObserver: TrainingObserver {
    private var bar: ProgressBar?

    func trainingStarted(totalSteps: Int, runFolder: URL) {
        print("logging to \(runFolder.appendingPathComponent(RunFolder.logFileName).path)")
        bar = ProgressBar(label: "Train", total: totalSteps)
    }

    func stepFinished(step: Int, totalSteps: Int, loss: Double?, learningRate: Double, tokensPerSecond: Double) {
        let shownLoss = loss.map { String(format: "%.4f", $0) } ?? "-"
        bar?.update(step, postfix: "loss=\(shownLoss), " + String(format: "lr=%.3g, tok/s=%.0f", learningRate, tokensPerSecond))
    }

    func logged(_ record: LogRecord) {
        bar?.finishLine()
        print(record.json)
    }

    func checkpointSaved(_ folder: URL) {
        bar?.finishLine()
        print("saved \(folder.path)")
    }

    func finish() { bar?.finish() }
}
