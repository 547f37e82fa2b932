import Foundation
import SwiftTuneAdapters
import SwiftTuneChat
import SwiftTuneCheckpoint
import SwiftTuneData
import SwiftTuneHub
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneQuantization
import SwiftTuneTensor
import SwiftTuneTokenizers

/// Everything `swift-tune sft` / `pt` resolved from its flags: the library form of ms-swift's `TrainArguments`.
public struct SFTOptions: Sendable {
    public enum TrainType: String, Sendable, CaseIterable { case lora, full }

    /// A local model: an HF folder (`config.json`, safetensors, `tokenizer.json`) or a GGUF file.
    public var model: URL
    public var trainType: TrainType = .lora
    public var lora = LoRAConfiguration()
    /// QLoRA (`--train_type qlora`, or `--quant_method bnb --quant_bits 4`): the base model's linear weights in
    /// bitsandbytes' 4-bit format, quantized as they load; LoRA only (full fine-tuning needs dense weights).
    public var fourBit: FourBitQuantization?
    /// `--offload_embedding`: keep the frozen input embedding table in (pinned) host memory, read a token row at a
    /// time: 1 GiB less on the GPU for a 7B model with a 152k vocabulary. LoRA only; not for tied embeddings.
    public var offloadEmbedding = false
    /// `--adapters`: continue training an existing LoRA adapter (its config replaces the LoRA flags).
    public var adapters: URL?
    public var datasets: [DatasetSpec]
    public var data = DatasetOptions()
    /// `--template`; nil picks the template from the model.
    public var templateName: String?
    public var training = TrainingArguments()
    /// `pt` rather than `sft` (only recorded; `pt`'s defaults are applied by the caller).
    public var isPretraining = false
    /// `--torch_dtype` (`bfloat16`, `float32`; `float16` is refused): the model's `Precision`. nil picks ms-swift's
    /// default for the backend (`Precision.default(for:)`): bfloat16 on CUDA, float32 on the CPU. args.json records
    /// the resolved spelling.
    public var torchDtype: String?
    /// A reward model (`rlhf --rlhf_type rm`, ms-swift's `task_type seq_cls` with `num_labels` 1): the model gets a value
    /// head `score` that trains with the adapter (a `modules_to_save` module, as PEFT's SEQ_CLS does) or in full.
    public var valueHead = false

    public init(model: URL, datasets: [DatasetSpec]) {
        self.model = model
        self.datasets = datasets
    }
}

/// What `SFT.run` produced.
public struct SFTResult: Sendable {
    public var runFolder: URL
    public var summary: TrainingSummary
    public var datasetReport: DatasetLoadReport
}

/// `sft` and `pt` as a library call: the shared setup (model, tokenizer, template, LoRA or full, resume), the
/// datasets encoded as answers, the SFT objective, the trainer with checkpoints in ms-swift's run folder layout, and
/// the curves.
public enum SFT {
    /// - Parameters:
    ///   - backend: where to compute (the caller picks it; the library never does).
    ///   - message: informational lines (what was loaded, the dataset report), for the caller to show.
    public static func run(_ options: SFTOptions, backend: any Backend, stop: StopSignal? = nil,
                           observer: (any TrainingObserver)? = nil,
                           message: (String) -> Void = { _ in }) throws -> SFTResult {
        let setup = try TrainingSetup(options, backend: backend, message: message)
        let data = try DatasetPipeline.load(options.datasets, options: setup.options.data, tokenizer: setup.tokenizer,
                                            template: setup.template)
        message("dataset: \(data.report)")
        let objective = try SFTObjective(train: TrainingExample.examples(of: data.train),
                                         validation: data.validation.map(TrainingExample.examples(of:)) ?? [],
                                         datasetName: options.datasets.map(\.raw).joined(separator: " "))
        let (runFolder, summary) = try setup.train(objective, validationRows: data.validationRows, stop: stop,
                                                   observer: observer, message: message)
        return SFTResult(runFolder: runFolder, summary: summary, datasetReport: data.report)
    }
}
