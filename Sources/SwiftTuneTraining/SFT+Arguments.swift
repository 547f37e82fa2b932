import Foundation
import SwiftTuneModels

extension SFT {
    /// `args.json`: every resolved argument under ms-swift's names, so `infer --adapters` and a later
    /// `--resume_from_checkpoint` can rebuild the run.
    static func argumentsFile(_ options: SFTOptions, templateName: String, runFolder: URL) throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var arguments = try JSONSerialization.jsonObject(with: encoder.encode(options.training)) as? [String: Any] ?? [:]
        let data = options.data
        let values: [String: Any?] = [
            "model": options.model.path,
            "model_type": nil,
            "train_type": options.trainType.rawValue,
            "task": options.isPretraining ? "pt" : "sft",
            "template": templateName,
            "system": data.template.system,
            "torch_dtype": options.torchDtype,
            "dataset": options.datasets.map(\.raw),
            "val_dataset": data.valDatasets.map(\.raw),
            "split_dataset_ratio": data.splitDatasetRatio,
            "data_seed": Int(data.dataSeed),
            "dataset_shuffle": data.datasetShuffle,
            "max_length": data.maxLength,
            "truncation_strategy": data.truncationStrategy.rawValue,
            "packing": data.packing,
            "loss_scale": data.template.lossScale.rawValue,
            "use_chat_template": data.template.useChatTemplate,
            "columns": data.columns.isEmpty ? nil : Dictionary(data.columns.map { ($0.from, $0.to) }, uniquingKeysWith: { $1 }),
            "strict": data.strict,
            "model_name": data.modelName,
            "model_author": data.modelAuthor,
            "lora_rank": options.lora.rank,
            "lora_alpha": options.lora.alpha,
            "lora_dropout": options.lora.dropout,
            "use_rslora": options.lora.useRSLoRA,
            "target_modules": targetModules(options.lora.targets),
            "target_regex": { if case let .regex(pattern) = options.lora.targets { pattern } else { nil } }(),
            "modules_to_save": options.lora.modulesToSave,
            "adapters": options.adapters.map { [$0.path] } ?? [],
            "output_dir": runFolder.path,
            "learning_rate": options.training.resolvedLearningRate(fullFineTuning: options.trainType == .full),
            "gradient_accumulation_steps": options.training.resolvedGradientAccumulationSteps,
            "swift_tune_version": "0.1.0",
        ]
        for (key, value) in values { arguments[key] = value ?? NSNull() }
        return try JSONSerialization.data(withJSONObject: arguments, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static func targetModules(_ selector: ModuleSelector) -> [String] {
        switch selector {
        case .allLinear: ["all-linear"]
        case let .names(names): names
        case .regex: []
        }
    }
}
