import Foundation
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneTensor

/// The logits of one model on two backends and, where the directory has HF's goldens, against those.
public struct LogitsComparison: Sendable, CustomStringConvertible {
    public let model: String
    /// max |candidate − reference| / max |reference|
    public let relativeError: Double
    /// max |candidate − HF transformers| / max |HF|, when `golden.safetensors` is present.
    public let relativeErrorToGolden: Double?
    /// The largest, over all parameters, max |candidate − reference| / max |reference| of the gradients of a
    /// full fine-tuning backward pass (nil when the candidate backend cannot run one).
    public let gradientRelativeError: Double?
    /// Why gradients were not compared, if they were not.
    public let gradientNote: String?
    public let tolerance: Double
    public let gradientTolerance: Double

    public var passed: Bool {
        relativeError <= tolerance && (relativeErrorToGolden ?? 0) <= tolerance
            && (gradientRelativeError ?? 0) <= gradientTolerance
    }

    public var description: String {
        func format(_ value: Double?) -> String { value.map { String(format: "%.2e", $0) } ?? "n/a" }
        return "\(model): logits rel. error vs reference \(format(relativeError)), vs HF \(format(relativeErrorToGolden)), "
            + "gradients \(format(gradientRelativeError))\(gradientNote.map { " (\($0))" } ?? "") "
            + "(tolerances \(String(format: "%.0e", tolerance)), \(String(format: "%.0e", gradientTolerance))) "
            + (passed ? "PASS" : "FAIL")
    }

    /// Runs the model in `directory` on both backends with the golden inputs (or a fixed sequence without them).
    public static func compare(directory: URL, reference: any Backend, candidate: any Backend,
                               tolerance: Double = 1e-4, gradientTolerance: Double = 1e-3) throws -> LogitsComparison {
        let goldenURL = directory.appendingPathComponent("golden.safetensors")
        let golden = FileManager.default.fileExists(atPath: goldenURL.path) ? try SafetensorsFile(url: goldenURL) : nil
        var sequences: [[Int32]] = [[1, 5, 9, 2, 7, 3, 8, 4]]
        if let golden {
            let shape = try golden.info("input_ids").shape
            let flat = try reference.int32s(golden.tensor("input_ids", on: reference))
            sequences = (0..<shape[0]).map { Array(flat[$0 * shape[1] ..< ($0 + 1) * shape[1]]) }
        }
        let batch = try TokenBatch(sequences: sequences)
        func logits(_ backend: any Backend) throws -> [Float] {
            let model = try DecoderModel.load(directory: directory, backend: backend)
            try batch.validate(vocabularySize: model.config.vocabSize)
            return try backend.floats(model.logits(batch.upload(to: backend)))
        }
        func gradients(_ backend: any Backend) throws -> [[Float]] {
            let model = try DecoderModel.load(directory: directory, backend: backend)
            try model.setAllTrainable(true)
            let deviceBatch = try batch.upload(to: backend)
            _ = try model.lossAndGradients(deviceBatch, gradientScale: 1 / Float(max(deviceBatch.scoredTokenCount, 1)))
            return try model.parameters.compactMap { try $0.gradient.map(backend.floats) }
        }
        let expected = try logits(reference), actual = try logits(candidate)
        var toGolden: Double?
        if let golden { toGolden = relativeMaxError(try reference.floats(golden.tensor("logits", on: reference)), expected) }
        var gradientError: Double?, note: String?
        do {
            let (r, c) = (try gradients(reference), try gradients(candidate))
            gradientError = r.count == c.count ? zip(r, c).map { relativeMaxError($0, $1) }.max() ?? 0 : .infinity
        } catch let error as TensorError {
            guard case .unsupported = error else { throw error }
            note = error.description
        }
        return LogitsComparison(model: directory.lastPathComponent, relativeError: relativeMaxError(expected, actual),
                                relativeErrorToGolden: toGolden, gradientRelativeError: gradientError,
                                gradientNote: note, tolerance: tolerance, gradientTolerance: gradientTolerance)
    }
}
