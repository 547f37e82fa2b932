import Foundation
import SwiftTuneTensor

extension ComparisonCase {
    /// `sample` on 8 rows of V = 5000 random logits (normal, scale 3; a few −∞; rows 0 and 1 with a repeated
    /// maximum) with histories of 40 ids (repeats and ids outside the vocabulary included): greedy rows with the
    /// penalties, and sampled rows with every filter alone and together. Tokens must match exactly (a GPU's f64 sums
    /// differ from the CPU's only in the last bits, far from these random uniform numbers); log-probabilities ≤ 1e-5.
    static func samplingCases(seed: UInt64) -> [ComparisonCase] {
        var random = SeededGenerator(seed: seed)
        let (rows, vocabulary, historyLength) = (8, 5000, 40)
        var logits = (0..<(rows * vocabulary)).map { _ -> Float in
            // Box–Muller on the case's own generator.
            let u1 = max(Double.random(in: 0..<1, using: &random), 1e-12), u2 = Double.random(in: 0..<1, using: &random)
            return Float(3 * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
        }
        for _ in 0..<200 { logits[Int.random(in: 0..<logits.count, using: &random)] = -.infinity }
        for row in 0..<2 { logits[row * vocabulary + 17] = 40; logits[row * vocabulary + 4000] = 40 }
        var history: [Int32] = [], starts: [Int32] = [0], answers: [Int32] = []
        for _ in 0..<rows {
            let ids = (0..<historyLength).map { _ in Int32.random(in: -1...Int32(vocabulary + 1), using: &random) }
            answers.append(Int32(history.count + historyLength / 2))
            history += ids + ids.prefix(5)  // repeats
            starts.append(Int32(history.count))
        }
        // temperature, top_k, top_p, min_p, repetition, presence, frequency (uniform drawn below).
        let settings: [[Double]] = [
            [0, 0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1.3, 0.5, 0.25],
            [1, 0, 1, 0, 1, 0, 0], [0.7, 50, 1, 0, 1.2, 0, 0],
            [1.3, 0, 0.9, 0, 1, 0.4, 0.1], [1, 0, 1, 0.05, 1, 0, 0],
            [0.8, 200, 0.95, 0.01, 1.1, 0.3, 0.3], [2, 3, 0.5, 0, 1, 0, 0],
        ]
        let parameters = settings.flatMap { $0 + [Double.random(in: 0..<1, using: &random)] }

        func run(_ backend: any Backend, logprobs wanted: Bool) throws -> [(name: String, values: [Float])] {
            let tokens = try backend.empty([rows], dtype: .i32)
            let logprobs = wanted ? try backend.empty([rows], dtype: .f64) : nil
            try backend.sample(
                logits: try backend.tensor(logits, shape: [rows, vocabulary]),
                parameters: try parameters.withUnsafeBytes {
                    try backend.tensor(bytes: $0, shape: [rows, SamplingParameter.count], dtype: .f64)
                },
                historyIds: try backend.tensor(history, shape: [history.count]),
                historyStarts: try backend.tensor(starts, shape: [rows + 1]),
                answerStarts: try backend.tensor(answers, shape: [rows]), into: tokens, logprobs: logprobs)
            var outputs = [(name: "tokens", values: try backend.int32s(tokens).map(Float.init))]
            if let logprobs { outputs.append((name: "logprobs", values: try backend.floats(logprobs))) }
            return outputs
        }
        return [
            ComparisonCase(op: "sample", variant: "8 × 5000, every filter", tolerance: .exact) { try run($0, logprobs: false) },
            ComparisonCase(op: "sample", variant: "8 × 5000, with logprobs", tolerance: .exact,
                           outputTolerances: ["logprobs": ComparisonTolerance(absolute: 1e-5, relative: 1e-5)]) {
                try run($0, logprobs: true)
            },
        ]
    }
}
