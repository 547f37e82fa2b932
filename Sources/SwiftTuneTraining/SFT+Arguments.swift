import Foundation
import SwiftTuneJSON
import SwiftTuneModels
import SwiftTuneRunFiles

extension SFT {
    /// `args.json`: every resolved argument under ms-swift's names, keys sorted, so `infer --adapters` and a later
    /// `--resume_from_checkpoint` can rebuild the run.
    static func runArguments(_ options: SFTOptions, templateName: String, runFolder: URL) throws -> RunArguments {
        var arguments = try RunArguments(file: runFolder.appendingPathComponent(RunArguments.fileName),
                                         encoding: options.training)
        func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
        func number(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
        func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
        let data = options.data
        let columns = Dictionary(data.columns.map { ($0.from, $0.to) }, uniquingKeysWith: { $1 })
        let values: [(String, JSONValue)] = [
            ("model", .string(options.model.path)),
            ("model_type", .null),
            ("train_type", .string(options.trainType.rawValue)),
            ("task", .string(options.isPretraining ? "pt" : "sft")),
            ("template", .string(templateName)),
            ("system", string(data.template.system)),
            ("torch_dtype", string(options.torchDtype)),
            ("dataset", strings(options.datasets.map(\.raw))),
            ("val_dataset", strings(data.valDatasets.map(\.raw))),
            ("split_dataset_ratio", number(data.splitDatasetRatio)),
            ("data_seed", int(Int(data.dataSeed))),
            ("dataset_shuffle", .bool(data.datasetShuffle)),
            ("max_length", data.maxLength.map(int) ?? .null),
            ("truncation_strategy", .string(data.truncationStrategy.rawValue)),
            ("packing", .bool(data.packing)),
            ("loss_scale", .string(data.template.lossScale.rawValue)),
            ("use_chat_template", .bool(data.template.useChatTemplate)),
            ("columns", columns.isEmpty ? .null
                : .object(columns.keys.sorted().map { JSONMember(key: $0, value: .string(columns[$0] ?? "")) })),
            ("strict", .bool(data.strict)),
            ("model_name", data.modelName.map(strings) ?? .null),
            ("model_author", data.modelAuthor.map(strings) ?? .null),
            ("lora_rank", int(options.lora.rank)),
            // ms-swift's lora_alpha is an int; a whole alpha is written as one.
            ("lora_alpha", options.lora.alpha.rounded() == options.lora.alpha && abs(options.lora.alpha) < 0x1p53
                ? int(Int(options.lora.alpha)) : number(options.lora.alpha)),
            ("lora_dropout", number(options.lora.dropout)),
            ("use_rslora", .bool(options.lora.useRSLoRA)),
            ("target_modules", strings(targetModules(options.lora.targets))),
            ("target_regex", { if case let .regex(pattern) = options.lora.targets { .string(pattern) } else { .null } }()),
            ("modules_to_save", strings(options.lora.modulesToSave)),
            ("adapters", .array(options.adapters.map { [.string($0.path)] } ?? [])),
            ("output_dir", .string(runFolder.path)),
            ("learning_rate", number(options.training.resolvedLearningRate(fullFineTuning: options.trainType == .full))),
            ("gradient_accumulation_steps", int(options.training.resolvedGradientAccumulationSteps)),
            ("quant_method", options.fourBit == nil ? .null : .string("bnb")),
            ("quant_bits", options.fourBit == nil ? .null : int(4)),
            ("bnb_4bit_quant_type", options.fourBit.map { .string($0.quantType.rawValue) } ?? .null),
            ("bnb_4bit_use_double_quant", options.fourBit.map { .bool($0.doubleQuantization) } ?? .null),
            ("bnb_4bit_compute_dtype", options.fourBit == nil ? .null : string(options.torchDtype)),
            ("offload_embedding", .bool(options.offloadEmbedding)),
            ("swift_tune_version", "0.1.0"),
        ]
        for (key, value) in values { try arguments.set(key, value) }
        arguments.sortKeys()
        return arguments
    }

    static func targetModules(_ selector: ModuleSelector) -> [String] {
        switch selector {
        case .allLinear: ["all-linear"]
        case let .names(names): names
        case .regex: []
        }
    }
}
