/// Errors from training: what, where, expected vs got, and a hint.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case unwritableOutput(path: String, reason: String)
    case invalidArgument(flag: String, value: String, expected: String)
    case conflictingArguments(String, String, hint: String)
    case noTrainableTokens(dataset: String)
    case checkpointMismatch(path: String, reason: String)
    /// The largest micro-batch's activations (`ActivationMemory`) need more memory than `device` has free.
    case activationsDoNotFit(estimate: String, neededBytes: Int, availableBytes: Int, device: String, hint: String)

    public var description: String {
        switch self {
        case let .unwritableOutput(path, reason):
            "cannot write the output folder \(path): \(reason) (hint: pass --output_dir with a folder you can write)"
        case let .invalidArgument(flag, value, expected):
            "--\(flag) \(value): expected \(expected)"
        case let .conflictingArguments(first, second, hint):
            "--\(first) and --\(second) cannot be used together (hint: \(hint))"
        case let .noTrainableTokens(dataset):
            "\(dataset): no token carries a loss after templating and truncation (hint: check --loss_scale, --max_length and that rows have assistant answers)"
        case let .checkpointMismatch(path, reason):
            "\(path): this checkpoint does not fit the run: \(reason)"
        case let .activationsDoNotFit(estimate, needed, available, device, hint):
            "the largest batch needs \(needed) bytes of activation memory, but \(device) has \(available) bytes free "
                + "(\(ActivationMemory.format(available))); estimate: \(estimate) (hint: \(hint))"
        }
    }
}
