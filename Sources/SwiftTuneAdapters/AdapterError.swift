/// Everything that can go wrong reading or writing a PEFT adapter: what, where (file, key), expected vs got, and
/// a hint.
public enum AdapterError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file of the adapter directory is missing.
    case missingFile(path: String, hint: String)
    /// `adapter_config.json` is not JSON, or `key` has the wrong type or an impossible value.
    case invalidConfig(path: String, key: String, expected: String, got: String)
    /// `key` asks for a PEFT feature this implementation does not have.
    case unsupportedConfig(path: String, key: String, value: String, hint: String)
    /// A tensor of the adapter file has another shape than the model needs.
    case shapeMismatch(path: String, key: String, expected: [Int], got: [Int], hint: String)
    /// The model needs tensor `key`, which the adapter file lacks.
    case missingTensor(path: String, key: String, hint: String)
    /// The adapter file holds tensor `key`, which belongs to nothing in the model.
    case unexpectedTensor(path: String, key: String, hint: String)
    /// Saving was asked of a model without an attached adapter.
    case noAdapterAttached

    public var description: String {
        switch self {
        case let .missingFile(path, hint):
            "\(path): no such file (hint: \(hint))"
        case let .invalidConfig(path, key, expected, got):
            "\(path): \"\(key)\" must be \(expected), got \(got)"
        case let .unsupportedConfig(path, key, value, hint):
            "\(path): \"\(key)\": \(value) is not supported (hint: \(hint))"
        case let .shapeMismatch(path, key, expected, got, hint):
            "\(path): tensor \"\(key)\" has shape \(got), but this model needs \(expected) (hint: \(hint))"
        case let .missingTensor(path, key, hint):
            "\(path): missing tensor \"\(key)\" (hint: \(hint))"
        case let .unexpectedTensor(path, key, hint):
            "\(path): tensor \"\(key)\" matches nothing in this model (hint: \(hint))"
        case .noAdapterAttached:
            "no LoRA adapter is attached to the model (hint: attachLoRA or LoRAAdapter.load first)"
        }
    }
}
