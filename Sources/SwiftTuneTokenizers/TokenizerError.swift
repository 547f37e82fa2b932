/// Why a tokenizer could not be loaded: what, where (file and JSON path), expected vs got, and a hint.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The folder or file does not exist, or the folder has no `tokenizer.json`.
    case fileNotFound(path: String, hint: String)
    /// The file is not valid JSON (or not UTF-8).
    case invalidJSON(file: String, detail: String)
    /// A required key is absent.
    case missingKey(file: String, path: String, hint: String)
    /// A value has the wrong JSON type or an invalid value.
    case invalidValue(file: String, path: String, expected: String, got: String)
    /// A component or option swift-tune does not implement (e.g. a Unigram or WordPiece model).
    case unsupported(file: String, path: String, got: String, supported: String, hint: String)
    /// A token the file refers to (in merges, a template, a special token) is not in the vocabulary.
    case unknownToken(file: String, path: String, token: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path, hint):
            return "\(path): not found. Hint: \(hint)"
        case let .invalidJSON(file, detail):
            return "\(file): not valid JSON (\(detail)). Hint: the file may be truncated or a Git LFS pointer."
        case let .missingKey(file, path, hint):
            return "\(file): missing key \(path). Hint: \(hint)"
        case let .invalidValue(file, path, expected, got):
            return "\(file): \(path): expected \(expected), got \(got). Hint: the file does not follow HF "
                + "tokenizers' tokenizer.json format; re-save it with tokenizers or transformers (save_pretrained)."
        case let .unsupported(file, path, got, supported, hint):
            return "\(file): \(path): \(got) is not supported; swift-tune supports \(supported). Hint: \(hint)"
        case let .unknownToken(file, path, token):
            return "\(file): \(path): token \(String(reflecting: token)) is not in the vocabulary or added tokens. "
                + "Hint: the files disagree; they may come from different models or be truncated."
        }
    }
}
