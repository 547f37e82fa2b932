/// Errors from a run folder's files (`args.json`, `trainer_state.json`, `logging.jsonl`, `checkpoint-N`): what,
/// where (the file, the key or line), expected vs got, and a hint.
public enum RunFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The output folder cannot be created or written.
    case unwritableOutput(path: String, reason: String)
    /// A run file that is not JSON, or not the JSON object it should be.
    case unreadable(path: String, reason: String, hint: String)
    /// A key of a run file holds the wrong JSON type.
    case wrongType(path: String, key: String, expected: String, got: String)
    /// A required key is absent.
    case missingKey(path: String, key: String, expected: String)
    /// `args.json` names no base model, or one that is not here.
    case missingModel(path: String, model: String?)
    /// A checkpoint could not be written; earlier checkpoints are untouched.
    case checkpointWriteFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unwritableOutput(path, reason):
            "cannot write the output folder \(path): \(reason) (hint: pass --output_dir with a folder you can write)"
        case let .unreadable(path, reason, hint):
            "\(path): \(reason) (hint: \(hint))"
        case let .wrongType(path, key, expected, got):
            "\(path): \"\(key)\" must be \(expected), got \(got) (hint: fix or remove the key; swift-tune sft and "
                + "ms-swift write it)"
        case let .missingKey(path, key, expected):
            "\(path): \"\(key)\" is missing, expected \(expected)"
        case let .missingModel(path, model?):
            "\(path) names the model \(model), which does not exist here "
                + "(hint: pass --model with the base model (a folder or a .gguf file))"
        case let .missingModel(path, nil):
            "\(path) names no model (hint: pass --model)"
        case let .checkpointWriteFailed(path, reason):
            "writing checkpoint \(path) failed: \(reason); the previous checkpoints are intact"
        }
    }
}
