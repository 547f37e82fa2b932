import Foundation

/// What one `swift-tune eval` produced: the scores, every prediction, the rows skipped; rendered as a table and
/// written as `report.json` and `predictions/<dataset>.jsonl`.
public struct EvalReport: Sendable, Codable {
    public var model: String
    /// When the run started (ISO 8601, UTC).
    public var started: String
    public var seconds: Double
    public var scores: [EvalScore]
    public var skipped: [String]
    /// Not in `report.json`: written per dataset.
    public var predictions: [String: [EvalPrediction]]

    enum CodingKeys: String, CodingKey { case model, started, seconds, scores, skipped }

    public init(model: String, started: String, seconds: Double, scores: [EvalScore], skipped: [String],
                predictions: [String: [EvalPrediction]]) {
        self.model = model
        self.started = started
        self.seconds = seconds
        self.scores = scores
        self.skipped = skipped
        self.predictions = predictions
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        started = try container.decode(String.self, forKey: .started)
        seconds = try container.decode(Double.self, forKey: .seconds)
        scores = try container.decode([EvalScore].self, forKey: .scores)
        skipped = try container.decode([String].self, forKey: .skipped)
        predictions = [:]
    }

    /// The score table: dataset, subset, metric, score (4 decimals), n, in columns padded to their widest cell.
    public func table() -> String {
        let header = ["dataset", "subset", "metric", "score", "n"]
        let rows = scores.map { [$0.dataset, $0.subset, $0.metric, String(format: "%.4f", $0.score), "\($0.count)"] }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: " | ").trimmingCharacters(in: .whitespaces)
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "-|-")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }

    /// Writes `folder/report.json` and `folder/predictions/<dataset>.jsonl` (keys sorted), creating the folders.
    public func write(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let predictionsFolder = folder.appendingPathComponent("predictions")
        do {
            try FileManager.default.createDirectory(at: predictionsFolder, withIntermediateDirectories: true)
            let pretty = JSONEncoder()
            pretty.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
            try pretty.encode(self).write(to: folder.appendingPathComponent("report.json"), options: .atomic)
            for (dataset, predictions) in predictions {
                var data = Data()
                for prediction in predictions {
                    data.append(try encoder.encode(prediction))
                    data.append(0x0A)
                }
                try data.write(to: predictionsFolder.appendingPathComponent("\(dataset).jsonl"), options: .atomic)
            }
        } catch let error as EncodingError {
            throw EvalError.unwritable(path: folder.path, reason: "\(error)")
        } catch let error as CocoaError {
            throw EvalError.unwritable(path: folder.path, reason: error.localizedDescription)
        }
    }

    /// The folder one run writes to: `outputDir/<YYYYMMDD_HHMMSS>` (EvalScope's layout), a suffix added if taken.
    public static func runFolder(in outputDir: URL, date: Date = Date()) -> URL {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd_HHmmss"
        let name = formatter.string(from: date)
        var folder = outputDir.appendingPathComponent(name)
        var n = 1
        while FileManager.default.fileExists(atPath: folder.path) {
            folder = outputDir.appendingPathComponent("\(name)_\(n)")
            n += 1
        }
        return folder
    }
}
