import Foundation
import Testing
@testable import SwiftTuneCPU
import SwiftTuneTensor

/// Forward kernels (f64) against the textbook formulas, written out here the way the papers and HF state them.
@Suite("Forward kernels vs textbook formulas")
struct ForwardReferenceTests {
    @Test func rmsNormMatchesDefinition() {
        var random = SeededGenerator(seed: 31)
        let (rows, width, epsilon) = (7, 13, 1e-6)
        let x = random.values(rows * width, in: -3...3), weight = random.values(width)
        let result = Reference.rmsNorm(x, weight: weight, epsilon: epsilon)
        var expected = zeros(rows * width), expectedInverse = zeros(rows)
        for n in 0..<rows {
            let row = x[(n * width)..<((n + 1) * width)]
            let inverseRMS = 1 / sqrt(row.reduce(0) { $0 + $1 * $1 } / Double(width) + epsilon)
            expectedInverse[n] = inverseRMS
            for d in 0..<width { expected[n * width + d] = x[n * width + d] * inverseRMS * weight[d] }
        }
        expectClose(result.out, expected, tol: 1e-14, "rmsNorm out")
        expectClose(result.inverseRMS, expectedInverse, tol: 1e-14, "rmsNorm inverseRMS")
    }

    /// HF: `q * cos + rotate_half(q) * sin` with `emb = cat(freqs, freqs)` and `rotate_half(x) = cat(-x₂, x₁)`.
    @Test func ropeMatchesHuggingFaceRotateHalf() {
        var random = SeededGenerator(seed: 32)
        let (tokens, heads, headDim, scaling) = (5, 2, 8, 1.25)
        let x = random.values(tokens * heads * headDim), positions = random.integers(tokens, in: 0..<4096)
        let frequencies = RoPETestData.inverseFrequencies(headDim: headDim)
        let half = headDim / 2
        var expected = zeros(x.count)
        for n in 0..<tokens {
            for h in 0..<heads {
                let base = (n * heads + h) * headDim
                for d in 0..<headDim {
                    let angle = Double(positions[n]) * frequencies[d % half]
                    let rotated = d < half ? -x[base + d + half] : x[base + d - half]
                    expected[base + d] = x[base + d] * cos(angle) * scaling + rotated * sin(angle) * scaling
                }
            }
        }
        let forward = Reference.rope(x, positions: positions, inverseFrequencies: frequencies, heads: heads,
                                     attentionScaling: scaling, inverse: false)
        expectClose(forward, expected, tol: 1e-12, "rope forward")
        // With attentionScaling 1 the rotation is orthogonal: the inverse undoes it.
        let unscaled = Reference.rope(x, positions: positions, inverseFrequencies: frequencies, heads: heads,
                                      attentionScaling: 1, inverse: false)
        let restored = Reference.rope(unscaled, positions: positions, inverseFrequencies: frequencies, heads: heads,
                                      attentionScaling: 1, inverse: true)
        expectClose(restored, x, tol: 1e-12, "rope inverse ∘ rope")
    }

    @Test func swigluMatchesDefinition() {
        let gate = [-40.0, -2, -0.5, 0, 0.5, 2, 40], up = [1.0, 2, 3, 4, 5, 6, 7]
        let expected = zip(gate, up).map { g, u in g / (1 + exp(-g)) * u }
        expectClose(Reference.swiglu(gate: gate, up: up), expected, tol: 1e-15, "swiglu")
    }

    @Test func crossEntropyMatchesLogSoftmaxAndCountsArgmax() {
        var random = SeededGenerator(seed: 33)
        let (rows, vocabulary) = (6, 11)
        var logits = random.values(rows * vocabulary, in: -4...4)
        // Row 0: a tie for the max at 3 and 7; the first index wins (and is the target, so it is correct).
        logits[3] = 9
        logits[7] = 9
        // Row 1: huge logits must not overflow (the max is subtracted).
        for v in 0..<vocabulary { logits[vocabulary + v] += 1000 }
        let targets = [3, 5, -100, 0, 10, -100]
        let result = Reference.crossEntropy(logits: logits, targets: targets, gradientScale: nil)
        var expectedLoss = 0.0, expectedCorrect = 0
        for n in 0..<rows {
            let row = Array(logits[(n * vocabulary)..<((n + 1) * vocabulary)])
            guard targets[n] != -100 else {
                #expect(result.logProbabilities[n] == 0, "ignored row \(n) reports log p = 0")
                continue
            }
            let maxValue = row.max() ?? 0
            let logProbability = row[targets[n]] - maxValue - log(row.reduce(0) { $0 + exp($1 - maxValue) })
            expectClose([result.logProbabilities[n]], [logProbability], tol: 1e-13, "log p(target) row \(n)")
            expectedLoss -= logProbability
            if row.firstIndex(of: maxValue) == targets[n] { expectedCorrect += 1 }
        }
        #expect(result.totals.count == 4)
        #expect(result.totals.correct == expectedCorrect)
        #expect(expectedCorrect >= 1, "row 0 is built to be correct")
        expectClose([result.totals.lossSum], [expectedLoss], tol: 1e-13, "loss sum")
    }
}
