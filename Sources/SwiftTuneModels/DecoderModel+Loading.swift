import Foundation
import SwiftTuneCheckpoint
import SwiftTuneTensor

extension DecoderModel {
    /// Loads an HF model directory: `config.json` plus `model.safetensors` or a sharded
    /// `model.safetensors.index.json`. Weights are converted to f32 on `backend`.
    public static func load(directory: URL, backend: any Backend) throws -> DecoderModel {
        let config = try DecoderConfig.load(from: directory.appendingPathComponent("config.json"))
        let weights = try ModelWeights(directory: directory)
        let source = "\(directory.path) (\(weights.fileNames.joined(separator: ", ")))"
        return try DecoderModel(config: config, backend: backend, source: source) { name in
            weights.contains(name) ? try weights.tensor(name, on: backend, as: .f32) : nil
        }
    }
}

/// The logits of one model on two backends and, where the directory has HF's goldens, against those.
public struct LogitsComparison: Sendable, CustomStringConvertible {
    public let model: String
    /// max |candidate − reference| / max |reference|
    public let relativeError: Double
    /// max |candidate − HF transformers| / max |HF|, when `golden.safetensors` is present.
    public let relativeErrorToGolden: Double?
    public let tolerance: Double

    public var passed: Bool { relativeError <= tolerance && (relativeErrorToGolden ?? 0) <= tolerance }

    public var description: String {
        let golden = relativeErrorToGolden.map { String(format: "%.2e", $0) } ?? "n/a"
        return "\(model): rel. error vs reference \(String(format: "%.2e", relativeError)), vs HF \(golden) "
            + "(tolerance \(String(format: "%.0e", tolerance))) \(passed ? "PASS" : "FAIL")"
    }

    /// Runs the model in `directory` on both backends with the golden inputs (or a fixed sequence without them).
    public static func compare(directory: URL, reference: any Backend, candidate: any Backend,
                               tolerance: Double = 1e-4) throws -> LogitsComparison {
        let goldenURL = directory.appendingPathComponent("golden.safetensors")
        let golden = FileManager.default.fileExists(atPath: goldenURL.path) ? try SafetensorsFile(url: goldenURL) : nil
        var sequences: [[Int32]] = [[1, 5, 9, 2, 7, 3, 8, 4]]
        if let golden {
            let shape = try golden.info("input_ids").shape
            let flat = try reference.int32s(golden.tensor("input_ids", on: reference))
            sequences = (0..<shape[0]).map { Array(flat[$0 * shape[1] ..< ($0 + 1) * shape[1]]) }
        }
        func logits(_ backend: any Backend) throws -> [Float] {
            let model = try DecoderModel.load(directory: directory, backend: backend)
            let batch = try TokenBatch(sequences: sequences)
            try batch.validate(vocabularySize: model.config.vocabSize)
            return try backend.floats(model.logits(batch.upload(to: backend)))
        }
        let expected = try logits(reference), actual = try logits(candidate)
        var toGolden: Double?
        if let golden { toGolden = relativeMaxError(try reference.floats(golden.tensor("logits", on: reference)), expected) }
        return LogitsComparison(model: directory.lastPathComponent, relativeError: relativeMaxError(expected, actual),
                                relativeErrorToGolden: toGolden, tolerance: tolerance)
    }
}

/// max |a − b| / max |a| (∞ when the counts differ).
public func relativeMaxError(_ reference: [Float], _ actual: [Float]) -> Double {
    guard reference.count == actual.count else { return .infinity }
    var maxDiff = 0.0, maxRef = 0.0
    for (r, a) in zip(reference, actual) {
        maxDiff = max(maxDiff, abs(Double(r) - Double(a)))
        maxRef = max(maxRef, abs(Double(r)))
    }
    return maxRef > 0 ? maxDiff / maxRef : maxDiff
}
