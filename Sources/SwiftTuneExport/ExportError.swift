import Foundation

/// Everything that can go wrong exporting: what, where, and a hint. Rendered by the CLI root.
public enum ExportError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The flags ask for nothing, or for something contradictory.
    case invalidRequest(reason: String, hint: String)
    /// `--merge_lora` on a full fine-tuning checkpoint: there is no adapter to merge.
    case nothingToMerge(checkpoint: String)
    /// The base model could not be found from the flags or the run's args.json.
    case missingBaseModel(checkpoint: String, reason: String)
    /// The output exists and `--exist_ok` was not given.
    case outputExists(path: String)
    /// The output folder's file system has too little free space for what export will write.
    case insufficientDiskSpace(path: String, needed: Int, available: Int)
    /// The disk filled up while a file was being written (ENOSPC).
    case diskFull(path: String)
    /// The base model cannot be written in the requested format (its family, tokenizer or a tensor).
    case unsupported(what: String, reason: String, hint: String)

    public var description: String {
        switch self {
        case let .invalidRequest(reason, hint):
            "export: \(reason) (hint: \(hint))"
        case let .nothingToMerge(checkpoint):
            "export: \(checkpoint) is a full fine-tuning checkpoint (model weights, no adapter_config.json): there is no "
                + "LoRA adapter to merge (hint: it is already a complete model; convert it with --model \(checkpoint) "
                + "--to_gguf true, or load it directly)"
        case let .missingBaseModel(checkpoint, reason):
            "export: no base model for \(checkpoint): \(reason) (hint: pass --model with the HF folder or GGUF file the "
                + "adapter was trained on)"
        case let .outputExists(path):
            "export: \(path) already exists (hint: pass --exist_ok true to overwrite it, or choose --output_dir)"
        case let .insufficientDiskSpace(path, needed, available):
            "export: not enough disk space in \(path): the export needs \(Self.size(needed)), \(Self.size(available)) are "
                + "free; nothing was written (hint: free space or choose --output_dir on another disk)"
        case let .diskFull(path):
            "export: the disk filled up while writing \(path); the partial output was removed and nothing was written "
                + "(hint: free space or choose --output_dir on another disk)"
        case let .unsupported(what, reason, hint):
            "export: \(what): \(reason) (hint: \(hint))"
        }
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1_000_000_000 ? String(format: "%.2f GB", Double(bytes) / 1e9)
            : bytes >= 1_000_000 ? String(format: "%.1f MB", Double(bytes) / 1e6) : "\(bytes) bytes"
    }
}
