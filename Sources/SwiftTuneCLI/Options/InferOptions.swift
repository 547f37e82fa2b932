import ArgumentParser
import Foundation
import SwiftTuneData
import SwiftTuneEngine
import SwiftTuneGeneration
import SwiftTuneRunFiles

/// The flags of `infer` besides the model group (ms-swift's names; unset sampling flags fall back to the model's
/// `generation_config.json` as ms-swift's pt engine does).
struct InferOptions: ParsableArguments {
    @Option(name: flag("adapters"), parsing: .upToNextOption,
            help: "A LoRA checkpoint folder (output/vN-…/checkpoint-N); model, template and system come from its run's args.json.")
    var adapters: [String] = []
    @Option(name: flag("merge_lora"), help: "Merge the adapter into the base weights before inference (default false).")
    var mergeLoRA: Bool?

    @Option(name: flag("max_new_tokens"), help: "New tokens per answer at most (default: until a stop or the context is full).")
    var maxNewTokens: Int?
    @Option(name: flag("temperature"), help: "0 is greedy (default: the model's generation_config.json, greedy without one).")
    var temperature: Double?
    @Option(name: flag("top_k"), help: "Sample from the k most likely tokens (0: off; default the model's, else 50).")
    var topK: Int?
    @Option(name: flag("top_p"), help: "Nucleus sampling mass in (0, 1] (default the model's, else 1).")
    var topP: Double?
    @Option(name: flag("min_p"), help: "Drop tokens below min_p × the top probability, in [0, 1] (default 0).")
    var minP: Double?
    @Option(name: flag("repetition_penalty"), help: "Penalty > 0 on tokens already seen (default the model's, else 1).")
    var repetitionPenalty: Double?
    @Option(name: flag("seed"), help: "Sampling seed; batch row i samples with seed + i (default 42).")
    var seed: UInt64?
    @Option(name: flag("stop_words"), parsing: .upToNextOption, help: "Extra texts that end an answer.")
    var stopWords: [String] = []
    @Option(name: flag("logprobs"), help: "Record each new token's log-probability in --result_path rows (default false).")
    var logprobs: Bool?
    @Option(name: flag("top_logprobs"), help: "With --logprobs true: also the n most likely tokens per step (0…20).")
    var topLogprobs: Int?

    @Option(name: flag("stream"), help: "Print answers token by token in the interactive mode (default true).")
    var stream: Bool?
    @Option(name: flag("max_batch_size"), help: "Requests decoded together in batch inference (default 1).")
    var maxBatchSize: Int?
    @Option(name: flag("max_model_len"), help: "Tokens per sequence, prompt and answer (default max_position_embeddings).")
    var maxModelLen: Int?
    @Option(name: flag("enable_prefix_caching"), help: "Reuse the KV cache blocks of prompt prefixes rows or turns share: true or false (default true).")
    var enablePrefixCaching = true
    @Option(name: flag("truncation_strategy"),
            help: "A prompt that fills the context: delete (an error, the default) or left (keep its end).")
    var truncationStrategy: String?

    @Option(name: flag("val_dataset"), parsing: .upToNextOption,
            help: "Batch inference on these datasets (any format sft reads, #N to sample); the last assistant turn becomes labels.")
    var valDataset: [String] = []
    @Option(name: flag("model_name"), parsing: .upToNextOption,
            help: "Name for self-cognition rows in --val_dataset (default: the run's --model_name).")
    var modelName: [String] = []
    @Option(name: flag("model_author"), parsing: .upToNextOption,
            help: "Author for self-cognition rows in --val_dataset (default: the run's --model_author).")
    var modelAuthor: [String] = []
    @Option(name: flag("load_data_args"), help: "Batch inference on the run's validation split (val_dataset.jsonl; default false).")
    var loadDataArgs: Bool?
    @Option(name: flag("result_path"),
            help: "JSONL of {response, labels, messages, logprobs} (default CKPT/infer_result/TIME.jsonl, or result/MODEL/infer_result/TIME.jsonl).")
    var resultPath: String?
    @Option(name: flag("metric"), help: "Score batch answers against the labels: acc (exact match) or rouge (ROUGE-L F1, whitespace tokens).")
    var metric: String?

    func validate() throws {
        do { try GenerationDefaults().config(applying: try samplingFlags()).validate() } catch let error as GenerationError {
            throw ValidationError(error.description)
        }
        if adapters.count > 1 {
            throw ValidationError("--adapters: infer takes one adapter folder, got \(adapters.count) "
                + "(the library serves several by name: Inference.load with namedAdapters)")
        }
        if let maxBatchSize, maxBatchSize < 1 { throw ValidationError("--max_batch_size \(maxBatchSize): expected a positive integer") }
        if let maxModelLen, maxModelLen < 2 { throw ValidationError("--max_model_len \(maxModelLen): expected at least 2") }
        if let metric, InferenceMetric(rawValue: metric) == nil {
            throw ValidationError("--metric \(metric): expected acc or rouge")
        }
        if loadDataArgs == true, !valDataset.isEmpty {
            throw ValidationError("--load_data_args true and --val_dataset both choose the rows; give one of them")
        }
        if loadDataArgs == true, adapters.isEmpty {
            throw ValidationError("--load_data_args true reads the run of --adapters CKPT; give --adapters")
        }
        if metric != nil, !isBatch { throw ValidationError("--metric scores batch inference: add --val_dataset or --load_data_args true") }
    }

    /// Batch inference rather than the interactive session.
    var isBatch: Bool { !valDataset.isEmpty || loadDataArgs == true }

    func samplingFlags() throws -> SamplingFlags {
        var truncation: PromptTruncation?
        switch truncationStrategy {
        case nil: truncation = nil
        case "delete", "error": truncation = .error
        case "left": truncation = .left
        case let other?:
            throw ValidationError("--truncation_strategy \(other): expected delete or left "
                + "(right would cut off the end of the prompt, where the question is)")
        }
        return SamplingFlags(maxNewTokens: maxNewTokens, temperature: temperature, topK: topK, topP: topP, minP: minP,
                             repetitionPenalty: repetitionPenalty, seed: seed, logprobs: logprobs,
                             topLogprobs: topLogprobs, truncation: truncation)
    }

    /// The library's options with the model group's flags.
    func inferenceOptions(model: ModelOptions) throws -> InferenceOptions {
        var options = InferenceOptions(model: model.model.map { URL(fileURLWithPath: $0) },
                                       adapter: adapters.first.map { URL(fileURLWithPath: $0) })
        options.templateName = model.template
        options.system = model.system
        options.mergeLoRA = mergeLoRA ?? false
        options.engine = EngineOptions(maxBatchSize: maxBatchSize ?? 1, maxModelLength: maxModelLen,
                                       prefixCaching: enablePrefixCaching)
        options.sampling = try samplingFlags()
        options.stopWords = stopWords
        return options
    }

    /// The data options for `--val_dataset`: self-cognition names from the flags, else from the run.
    func datasetOptions(run: RunArguments?) -> DatasetOptions {
        var options = DatasetOptions()
        options.modelName = modelName.isEmpty ? run?.modelName : modelName
        options.modelAuthor = modelAuthor.isEmpty ? run?.modelAuthor : modelAuthor
        return options
    }

    /// `--result_path`, or ms-swift's default: `infer_result/YYYYMMDD-HHMMSS.jsonl` in the checkpoint folder, else
    /// under `result/<model folder name>/`.
    func resultURL(modelFolder: URL, now: Date = Date()) -> URL {
        if let resultPath { return URL(fileURLWithPath: resultPath) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let folder = adapters.first.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: "result").appendingPathComponent(modelFolder.lastPathComponent)
        return folder.appendingPathComponent("infer_result/\(formatter.string(from: now)).jsonl")
    }
}
