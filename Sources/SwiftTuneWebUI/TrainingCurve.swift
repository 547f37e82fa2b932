import Foundation
import SwiftTuneRunFiles

/// The points of a run's `logging.jsonl` the page plots (loss, learning rate, grad norm by step), and the run
/// folders under an output folder.
public struct TrainingCurve: Sendable, Equatable, Codable {
    public struct Point: Sendable, Equatable, Codable {
        public var step: Int
        public var loss: Double?
        public var learningRate: Double?
        public var gradNorm: Double?

        enum CodingKeys: String, CodingKey {
            case step, loss
            case learningRate = "learning_rate"
            case gradNorm = "grad_norm"
        }
    }

    public var folder: String
    public var points: [Point]
    /// The last `global_step/max_steps`, e.g. `12/20`.
    public var progress: String?

    /// Reads `folder/logging.jsonl` (no file yet: no points).
    public static func read(folder: URL) -> TrainingCurve {
        let records = (try? TrainingLog.read(folder: folder)) ?? []
        var points: [Point] = []
        var progress: String?
        for record in records {
            guard case let .text(stepText)? = record["global_step/max_steps"] else { continue }
            progress = stepText
            guard let step = Int(stepText.split(separator: "/").first ?? ""), record.number("loss") != nil else { continue }
            points.append(Point(step: step, loss: record.number("loss"), learningRate: record.number("learning_rate"),
                                gradNorm: record.number("grad_norm")))
        }
        return TrainingCurve(folder: folder.path, points: points, progress: progress)
    }

    /// The run folders (`vN-…` with a `logging.jsonl` or `args.json`) directly under `outputDirectory`, newest last.
    public static func runFolders(in outputDirectory: URL) -> [URL] {
        RunFolder.runs(in: outputDirectory).map(\.url)
    }
}
