import Foundation

/// What `swift-tune eval` refuses or cannot do: each message says what, where, expected vs got, and a hint.
public enum EvalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--eval_dataset NAME` that is neither a known benchmark nor an existing path.
    case unknownBenchmark(name: String, known: [String])
    /// A known benchmark whose data folder is missing.
    case benchmarkDataMissing(name: String, searched: [String], hint: String)
    /// A row that cannot be scored (skipped unless `--strict`).
    case badRow(location: String, reason: String, hint: String)
    /// A data file or folder without a usable row.
    case emptyDataset(name: String, path: String, skipped: Int)
    /// A flag value outside its domain.
    case invalidSetting(flag: String, value: String, expected: String)
    /// An `--eval_url` that did not answer after the retries.
    case endpointUnavailable(url: String, attempts: Int, reason: String)
    /// An endpoint that answered with something else than OpenAI's response.
    case endpointResponse(url: String, status: Int, body: String)
    /// A prompt and continuation longer than the model's context.
    case promptTooLong(location: String, tokens: Int, context: Int)
    /// Writing the report or the predictions failed.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownBenchmark(name, known):
            "--eval_dataset \(name): not a known benchmark and no such file or folder. Known benchmarks: "
                + known.joined(separator: ", ") + ". Hint: give a path to a .jsonl/.csv/.json file or folder, or KIND=PATH "
                + "(e.g. general_qa=my_set.jsonl)."
        case let .benchmarkDataMissing(name, searched, hint):
            "benchmark \(name): no data found (looked in \(searched.joined(separator: ", "))). Hint: \(hint)"
        case let .badRow(location, reason, hint):
            "\(location): \(reason). Hint: \(hint)"
        case let .emptyDataset(name, path, skipped):
            "--eval_dataset \(name): \(path) has no usable row" + (skipped > 0 ? " (\(skipped) skipped, see above)" : "")
                + ". Hint: check the file's layout (docs: README, swift-tune eval)."
        case let .invalidSetting(flag, value, expected):
            "--\(flag) \(value): expected \(expected)"
        case let .endpointUnavailable(url, attempts, reason):
            "--eval_url \(url): no answer after \(attempts) attempts (\(reason)). Hint: is the server running "
                + "(swift-tune deploy …) and is the URL its /v1 base, e.g. http://127.0.0.1:8000/v1?"
        case let .endpointResponse(url, status, body):
            "\(url): HTTP \(status): \(body.prefix(500))"
        case let .promptTooLong(location, tokens, context):
            "\(location): the prompt and the option take \(tokens) tokens, more than the model's context of \(context). "
                + "Hint: raise --max_model_len if the model allows it, or drop the row."
        case let .unwritable(path, reason):
            "\(path): cannot be written (\(reason)). Hint: check --eval_output_dir."
        }
    }
}
