import ArgumentParser
import SwiftTuneChat
import SwiftTuneData

/// The dataset flags of `sft` and `pt` (ms-swift's names and defaults).
struct DataOptions: ParsableArguments {
    @Option(name: flag("dataset"), parsing: .upToNextOption,
            help: "Datasets: file.jsonl|json|csv, a folder, self-cognition, [hf::|ms::]org/name[:subset], each with optional #N.")
    var dataset: [String] = []

    @Option(name: flag("val_dataset"), parsing: .upToNextOption, help: "Validation datasets (same syntax).")
    var valDataset: [String] = []

    @Option(name: flag("split_dataset_ratio"), help: "Part of each training dataset held out for validation (default 0).")
    var splitDatasetRatio: Double?

    @Option(name: flag("data_seed"), help: "Seed for #N sampling, the split and the shuffle (default 42).")
    var dataSeed: UInt32?

    @Option(name: flag("dataset_shuffle"), help: "Shuffle the training set (default true).")
    var datasetShuffle: Bool?

    @Option(name: flag("max_length"), help: "Longest encoded row in tokens (default: the model's max_position_embeddings).")
    var maxLength: Int?

    @Option(name: flag("truncation_strategy"),
            help: "Rows over max_length: delete, left (keep the end), right (keep the start) or split (pt only) (default delete).")
    var truncationStrategy: String?

    @Option(name: flag("packing"), help: "Bin-pack rows into max_length sequences (default false).")
    var packing: Bool?

    @Option(name: flag("loss_scale"), help: "Which tokens carry the loss: default, last_round or all.")
    var lossScale: String?

    @Option(name: flag("use_chat_template"), help: "Render rows with the chat template (default true; false for pt).")
    var useChatTemplate: Bool?

    @Option(name: flag("columns"), help: #"JSON renames of dataset columns, e.g. '{"text": "query"}'."#)
    var columns: String?

    @Option(name: flag("strict"), help: "Stop at the first bad row instead of skipping it (default false).")
    var strict: Bool?

    @Option(name: flag("model_name"), parsing: .upToNextOption, help: "Name for self-cognition: one value or 'zh_name en_name'.")
    var modelName: [String] = []

    @Option(name: flag("model_author"), parsing: .upToNextOption, help: "Author for self-cognition: one value or 'zh en'.")
    var modelAuthor: [String] = []

    /// The library's options, with `defaults` for what the command line leaves unset (e.g. `pt`'s).
    func datasetOptions(system: String?, defaultLossScale: LossScale, defaultUseChatTemplate: Bool) throws -> DatasetOptions {
        var options = DatasetOptions()
        options.valDatasets = try valDataset.map { try DatasetSpec.parse($0) }
        if let splitDatasetRatio { options.splitDatasetRatio = splitDatasetRatio }
        if let dataSeed { options.dataSeed = dataSeed }
        if let datasetShuffle { options.datasetShuffle = datasetShuffle }
        options.maxLength = maxLength
        if let truncationStrategy {
            guard let strategy = TruncationStrategy(rawValue: truncationStrategy) else {
                throw ValidationError("--truncation_strategy \(truncationStrategy): expected one of \(TruncationStrategy.choices)")
            }
            options.truncationStrategy = strategy
        }
        if let packing { options.packing = packing }
        if let columns { options.columns = try RowPreprocessor.parseColumns(columns) }
        if let strict { options.strict = strict }
        options.modelName = modelName.isEmpty ? nil : modelName
        options.modelAuthor = modelAuthor.isEmpty ? nil : modelAuthor
        options.template = TemplateOptions(
            system: system, useChatTemplate: useChatTemplate ?? defaultUseChatTemplate,
            lossScale: try lossScale.map { try LossScale(parsing: $0) } ?? defaultLossScale)
        try options.validate()
        return options
    }

    func datasetSpecs() throws -> [DatasetSpec] {
        guard !dataset.isEmpty else { throw ValidationError("--dataset is required (e.g. --dataset data.jsonl#500)") }
        return try dataset.map { try DatasetSpec.parse($0) }
    }
}
