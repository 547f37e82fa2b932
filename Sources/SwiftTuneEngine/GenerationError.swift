/// Everything generation refuses (the engine, and `infer`'s loading above it): what, where (flag, file, request), expected vs got, and a hint.
public enum GenerationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A sampling or engine setting outside its domain; `flag` is ms-swift's name (`temperature`, `top_p`).
    case invalidSetting(flag: String, value: String, expected: String)
    /// A request's prompt does not fit the context.
    case promptTooLong(request: Int, tokens: Int, limit: Int, hint: String)
    /// A request with no prompt tokens, or ids outside the vocabulary.
    case invalidPrompt(request: Int, reason: String)
    /// A request names an adapter that was not registered.
    case unknownAdapter(name: String, known: [String])
    /// An adapter that cannot be served as asked (e.g. `modules_to_save` next to other adapters).
    case unsupportedAdapter(path: String, reason: String, hint: String)
    /// The model to run could not be determined or found.
    case modelNotFound(reason: String, hint: String)
    /// A run folder file (`args.json`, `val_dataset.jsonl`) that is missing or unreadable.
    case badRunFile(path: String, reason: String, hint: String)
    /// The KV cache cannot hold even one request.
    case cacheTooSmall(request: Int, tokens: Int, capacity: Int)
    /// `BatchScheduler`: `limit` requests are already waiting for a place in the batch.
    case queueFull(limit: Int)
    /// `BatchScheduler`: not taking requests, or a request was stopped, because the scheduler is shutting down.
    case shuttingDown(reason: String)
    /// `GenerationEngine.step` given sequences it cannot step together (not admitted, finished, other adapters).
    case invalidStep(reason: String, hint: String)

    public var description: String {
        switch self {
        case let .invalidSetting(flag, value, expected):
            "--\(flag) \(value): expected \(expected)"
        case let .promptTooLong(request, tokens, limit, hint):
            "request \(request): the prompt has \(tokens) tokens, but the context holds \(limit) (hint: \(hint))"
        case let .invalidPrompt(request, reason):
            "request \(request): \(reason)"
        case let .unknownAdapter(name, known):
            "unknown adapter \"\(name)\"; registered: \(known.isEmpty ? "none" : known.joined(separator: ", "))"
        case let .unsupportedAdapter(path, reason, hint):
            "\(path): \(reason) (hint: \(hint))"
        case let .modelNotFound(reason, hint):
            "\(reason) (hint: \(hint))"
        case let .badRunFile(path, reason, hint):
            "\(path): \(reason) (hint: \(hint))"
        case let .cacheTooSmall(request, tokens, capacity):
            "request \(request) needs \(tokens) cache slots, but the KV cache holds \(capacity) "
                + "(hint: ask for fewer new tokens (max_tokens), or a larger --kv_cache_tokens)"
        case let .queueFull(limit):
            "the request queue is full (\(limit) waiting) (hint: retry later, or raise the queue limit)"
        case let .shuttingDown(reason):
            "the generation scheduler is shutting down: \(reason)"
        case let .invalidStep(reason, hint):
            "generation step: \(reason) (hint: \(hint))"
        }
    }
}
