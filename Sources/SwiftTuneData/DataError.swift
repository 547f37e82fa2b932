import SwiftTuneChat

/// Where a dataset row came from: a file and a 1-based line (JSONL, CSV record start) or array index (JSON).
public struct RowLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based line for JSONL/CSV; for a JSON array, the element index is in `element`.
    public var line: Int?
    /// 0-based element index inside a JSON array file.
    public var element: Int?

    public init(file: String, line: Int? = nil, element: Int? = nil) {
        self.file = file
        self.line = line
        self.element = element
    }

    public var description: String {
        if let line { return "\(file):\(line)" }
        if let element { return "\(file)[\(element)]" }
        return file
    }
}

/// Why a row was not used. Each case is one reason counted in ``DatasetLoadReport``.
public enum RowProblem: String, Sendable, Codable, CaseIterable {
    case malformedJSON = "malformed JSON"
    case invalidUTF8 = "invalid UTF-8"
    case lineTooLong = "line too long"
    case noUsableFields = "no usable fields"
    case wrongType = "wrong type"
    case emptyAnswer = "empty assistant answer"
    case invalidMessages = "invalid messages"
    case templateError = "template error"
    case tooLong = "longer than max_length"
    /// A preference row (`rlhf`) without a rejected answer, or with a chosen answer equal to the rejected one.
    case noRejected = "no rejected answer"
    case sameAnswers = "chosen equals rejected"
    /// A KTO row without a true/false `label`.
    case noLabel = "no label"
}

/// Errors of dataset loading, parsing and encoding. Each says what, where (file:line, key), expected vs got,
/// and a hint.
public enum DataError: Error, Sendable, CustomStringConvertible {
    /// A row that cannot be used, with the reason and the key concerned.
    case badRow(location: RowLocation, problem: RowProblem, key: String?, detail: String)
    /// A file that cannot be read at all.
    case unreadableFile(path: String, reason: String)
    /// A file whose extension or content is not a dataset format.
    case unsupportedFormat(path: String, detail: String)
    /// A `--dataset` value that cannot be parsed.
    case invalidDatasetSyntax(String, reason: String)
    /// A hub id that is not available locally.
    case notFoundLocally(spec: String)
    /// A flag value out of range.
    case invalidOption(name: String, expected: String, got: String)
    /// `--columns` that is not a JSON object of strings.
    case invalidColumns(String, reason: String)
    /// After loading and filtering nothing is left.
    case emptyDataset(name: String, reason: String)

    public var description: String {
        switch self {
        case let .badRow(location, problem, key, detail):
            let keyText = key.map { " key '\($0)':" } ?? ""
            return "\(location):\(keyText) \(problem.rawValue): \(detail)"
        case let .unreadableFile(path, reason):
            return "\(path): cannot read: \(reason). Hint: check the path and permissions."
        case let .unsupportedFormat(path, detail):
            return "\(path): \(detail). Hint: use .json (array or one object per line), .jsonl or .csv."
        case let .invalidDatasetSyntax(text, reason):
            return "--dataset '\(text)': \(reason). Hint: the syntax is PATH[#N] or [hf::|ms::]ORG/NAME[:SUBSET][#N]."
        case let .notFoundLocally(spec):
            return "dataset '\(spec)' not found locally: it is neither a file nor a folder, and hub datasets are "
                + "not downloaded yet. Hint: download it and pass the local path, or use --dataset self-cognition."
        case let .invalidOption(name, expected, got):
            return "--\(name): expected \(expected), got \(got)."
        case let .invalidColumns(text, reason):
            return "--columns '\(text)': \(reason). Hint: pass a JSON object, e.g. '{\"prompt\": \"query\"}'."
        case let .emptyDataset(name, reason):
            return "dataset \(name) is empty: \(reason)."
        }
    }
}
