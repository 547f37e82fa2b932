/// What loading did: rows read, kept, and skipped by reason with the first few places.
public struct DatasetLoadReport: Sendable, CustomStringConvertible {
    /// Records read from files (or built-in rows), before any filtering.
    public var rowsRead = 0
    /// Rows in the final training set (after sampling, before packing).
    public var trainRows = 0
    /// Rows in the final validation set.
    public var validationRows = 0
    /// Skipped rows per reason.
    public var skipped: [RowProblem: Int] = [:]
    /// The first messages per reason (file:line, key, detail).
    public var examples: [RowProblem: [String]] = [:]
    /// Packed rows, when packing.
    public var packedRows: Int?
    /// The `--max_length` rows were checked against (nil: no limit) and what was done with longer ones.
    public var maxLength: Int?
    public var truncationStrategy: TruncationStrategy = .delete
    /// Rows over `maxLength` cut to it (`left`, `right`).
    public var truncatedRows = 0
    /// Rows over `maxLength` cut into pieces (`split`), and the rows those pieces became.
    public var splitRows = 0
    public var rowsFromSplits = 0
    /// How many examples per reason are kept.
    public static let examplesPerReason = 3

    public init() {}

    /// Total skipped rows.
    public var skippedCount: Int { skipped.values.reduce(0, +) }

    mutating func record(_ error: DataError) {
        guard case let .badRow(_, problem, _, _) = error else { return }
        skipped[problem, default: 0] += 1
        if examples[problem, default: []].count < Self.examplesPerReason { examples[problem, default: []].append(error.description) }
    }

    /// "12 longer than max_length 64 (truncation_strategy delete), 2 malformed JSON".
    public var skippedSummary: String {
        RowProblem.allCases.compactMap { p in skipped[p].map { "\($0) \(p.rawValue)" } }.joined(separator: ", ")
    }

    /// ", 2 of them longer than max_length 128 (deleted)", ", truncated: 3 to max_length 128 (left)", or "".
    var overLengthSummary: String {
        guard let maxLength else { return "" }
        var parts: [String] = []
        if let deleted = skipped[.tooLong] {
            parts.append(" (\(deleted) of them longer than max_length \(maxLength), deleted)")
        }
        if truncatedRows > 0 {
            parts.append(", truncated: \(truncatedRows) to max_length \(maxLength) (\(truncationStrategy.rawValue))")
        }
        if splitRows > 0 {
            parts.append(", split: \(splitRows) over max_length \(maxLength) into \(rowsFromSplits) rows")
        }
        return parts.joined()
    }

    public var description: String {
        var lines = ["rows read: \(rowsRead), train: \(trainRows), validation: \(validationRows), skipped: \(skippedCount)"
            + overLengthSummary]
        if let packedRows { lines.append("packed rows: \(packedRows)") }
        for p in RowProblem.allCases {
            guard let n = skipped[p] else { continue }
            lines.append("  \(p.rawValue): \(n)")
            for e in examples[p] ?? [] { lines.append("    \(e)") }
        }
        let bad = skipped.filter { $0.key != .tooLong }.values.reduce(0, +)
        if bad > 0 {
            lines.append("  \(bad) bad row\(bad == 1 ? " was" : "s were") skipped and training goes on without "
                + "\(bad == 1 ? "it" : "them"); --strict true stops at the first instead")
        }
        return lines.joined(separator: "\n")
    }
}
