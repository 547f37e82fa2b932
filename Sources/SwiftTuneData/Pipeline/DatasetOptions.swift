import SwiftTuneChat

/// What to do with an encoded row longer than `--max_length` (ms-swift `--truncation_strategy`).
public enum TruncationStrategy: String, Sendable, Codable, CaseIterable {
    /// Drop the row (counted in the report). ms-swift's default.
    case delete
    /// Keep the last `max_length` tokens.
    case left
    /// Keep the first `max_length` tokens.
    case right
    /// Cut the row into rows of `max_length` tokens (the last one shorter), wasting none: pre-training only
    /// (`--use_chat_template false`, `pt`'s default), as in ms-swift ≥ 3.11.
    case split

    /// The accepted spellings, for messages.
    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// The dataset flags of `sft`/`pt`/`rlhf`, with ms-swift's defaults.
public struct DatasetOptions: Sendable {
    /// `--val_dataset`: loaded whole (split ratio 1.0), shuffled only with `valDatasetShuffle`.
    public var valDatasets: [DatasetSpec] = []
    /// `--split_dataset_ratio` (0 ... 1): part of each training dataset held out for validation.
    public var splitDatasetRatio: Double = 0
    /// `--data_seed`: seeds numpy's `RandomState` for `#N` sampling and the split, and (through `get_seed`)
    /// the shuffles.
    public var dataSeed: UInt32 = 42
    /// `--dataset_shuffle`: shuffle the concatenated training set (and `#N` samples randomly).
    public var datasetShuffle: Bool = true
    /// `--val_dataset_shuffle`.
    public var valDatasetShuffle: Bool = false
    /// `--max_length`: nil means no limit here; `sft`/`pt` set it to the model's `max_position_embeddings` when the
    /// flag is absent (ms-swift's default).
    public var maxLength: Int?
    /// `--truncation_strategy`.
    public var truncationStrategy: TruncationStrategy = .delete
    /// `--packing`: bin-pack encoded samples into `max_length` rows.
    public var packing: Bool = false
    /// `--columns` renames.
    public var columns: [(from: String, to: String)] = []
    /// Automatic column mapping (`--disable_auto_column_mapping false`).
    public var autoColumnMapping: Bool = true
    /// `--strict`: stop at the first bad row instead of skipping it.
    public var strict: Bool = false
    /// `--model_name` (one value, or `zh en`) for `self-cognition`.
    public var modelName: [String]?
    /// `--model_author` (one value, or `zh en`) for `self-cognition`.
    public var modelAuthor: [String]?
    /// Whether rows must end with an assistant answer: true for training; `infer` sets false so that rows
    /// ending with the user's turn (or query-only rows) are prompts.
    public var requiresAnswer: Bool = true
    /// JSON Lines longer than this are skipped as bad rows.
    public var maxLineBytes: Int = 16 << 20
    /// What a preference command (`rlhf`) needs of each row; nil for `sft`/`pt`/`infer`.
    public var preferenceRows: PreferenceRowKind?
    /// `rlhf --max_completion_length`: each final answer of a preference row cut to its first N tokens before the
    /// `--max_length` check, which then cuts the prompt (TRL's order); nil keeps whole answers.
    public var maxCompletionLength: Int?
    /// Template flags: `--system`, `--loss_scale`, `--use_chat_template`, thinking.
    public var template: TemplateOptions = TemplateOptions()

    public init() {}

    /// Checks ranges and combinations; throws the flag that is wrong.
    public func validate() throws(DataError) {
        guard (0...1).contains(splitDatasetRatio) else {
            throw .invalidOption(name: "split_dataset_ratio", expected: "a number in [0, 1]", got: "\(splitDatasetRatio)")
        }
        if let maxLength, maxLength < 1 {
            throw .invalidOption(name: "max_length", expected: "a positive integer", got: "\(maxLength)")
        }
        if truncationStrategy == .split && (template.useChatTemplate || packing) {
            throw .invalidOption(name: "truncation_strategy",
                                 expected: "delete, left or right with a chat template or --packing (split is for pt: "
                                     + "--use_chat_template false)", got: "split")
        }
        if packing && maxLength == nil {
            throw .invalidOption(name: "max_length", expected: "a value when --packing true (the bin size)", got: "none")
        }
        if !valDatasets.isEmpty && splitDatasetRatio > 0 {
            throw .invalidOption(name: "split_dataset_ratio", expected: "0 when --val_dataset is given",
                                 got: "\(splitDatasetRatio)")
        }
    }
}
