/// Errors from building and running models: what, where (key, file), expected vs got, and a hint.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case missingWeight(key: String, source: String)
    case weightShapeMismatch(key: String, source: String, expected: [Int], got: [Int])
    case unsupportedConfig(key: String, value: String, hint: String)
    case invalidBatch(String)
    /// A LoRA setting (`key` is PEFT's name for it) that cannot be applied to this model.
    case invalidLoRAConfiguration(key: String, reason: String, hint: String)
    /// A weight in a dtype or storage kind the model cannot take for `key` (`expected` says what it can).
    case unsupportedWeight(key: String, source: String, expected: String, got: String)
    /// The backend cannot compute in the precision the model was asked for.
    case unsupportedPrecision(precision: String, backend: String, hint: String)

    public var description: String {
        switch self {
        case let .missingWeight(key, source):
            "\(source): missing weight \"\(key)\" (hint: is this checkpoint for the same architecture as its config.json?)"
        case let .weightShapeMismatch(key, source, expected, got):
            "\(source): weight \"\(key)\" has shape \(got), expected \(expected) from config.json"
        case let .unsupportedConfig(key, value, hint):
            "config: \(key) = \(value) is not supported (hint: \(hint))"
        case let .invalidBatch(message):
            "invalid batch: \(message)"
        case let .invalidLoRAConfiguration(key, reason, hint):
            "LoRA \(key): \(reason) (hint: \(hint))"
        case let .unsupportedWeight(key, source, expected, got):
            "\(source): weight \"\(key)\" is \(got), expected \(expected)"
        case let .unsupportedPrecision(precision, backend, hint):
            "the \(backend) backend cannot compute in \(precision) (hint: \(hint))"
        }
    }
}
