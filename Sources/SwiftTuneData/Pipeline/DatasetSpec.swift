import Foundation

/// A parsed `--dataset` / `--val_dataset` value: `PATH[#N]` or `[hf::|ms::]ORG/NAME[:SUBSET[/SUBSET…]][#N]`,
/// parsed as ms-swift's `DatasetSyntax.parse` does (an existing path is never split).
public struct DatasetSpec: Sendable, Equatable, CustomStringConvertible {
    /// Where the rows come from.
    public enum Source: Sendable, Equatable {
        /// A local file or folder.
        case path(String)
        /// A hub dataset id (`swift/self-cognition`); `useHF` is true for `hf::`, false for `ms::`, nil if unsaid.
        case hub(id: String, useHF: Bool?)
    }

    public var source: Source
    public var subsets: [String]
    /// `#N`: rows to sample (with repetition of the whole set above the size).
    public var sampleCount: Int?
    /// The text as given.
    public var raw: String

    public var description: String { raw }

    public init(source: Source, subsets: [String] = [], sampleCount: Int? = nil, raw: String) {
        self.source = source
        self.subsets = subsets
        self.sampleCount = sampleCount
        self.raw = raw
    }

    /// Parses `text`; `fileExists` decides what is a local path (injectable for tests).
    public static func parse(_ text: String,
                             fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) throws(DataError) -> DatasetSpec {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw .invalidDatasetSyntax(text, reason: "empty value") }
        if fileExists(trimmed) { return DatasetSpec(source: .path(trimmed), raw: text) }
        var rest = trimmed
        var useHF: Bool?
        if let r = rest.range(of: "::") {
            let hub = rest[..<r.lowerBound].lowercased()
            switch hub {
            case "hf": useHF = true
            case "ms": useHF = false
            default: throw .invalidDatasetSyntax(text, reason: "unknown hub '\(hub)' before '::' (expected hf or ms)")
            }
            rest = String(rest[r.upperBound...])
        }
        var sample: Int?
        if !fileExists(rest), let hash = rest.lastIndex(of: "#") {
            let number = rest[rest.index(after: hash)...]
            guard let n = Int(number), n > 0 else {
                throw .invalidDatasetSyntax(text, reason: "'#\(number)' is not a positive row count")
            }
            sample = n
            rest = String(rest[..<hash])
        }
        if fileExists(rest) { return DatasetSpec(source: .path(rest), sampleCount: sample, raw: text) }
        var subsets: [String] = []
        if let colon = rest.firstIndex(of: ":") {
            subsets = rest[rest.index(after: colon)...].split(separator: "/").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            rest = String(rest[..<colon])
        }
        let id = rest.trimmingCharacters(in: .whitespaces)
        guard !id.isEmpty else { throw .invalidDatasetSyntax(text, reason: "no dataset name") }
        return DatasetSpec(source: .hub(id: id, useHF: useHF), subsets: subsets, sampleCount: sample, raw: text)
    }
}
