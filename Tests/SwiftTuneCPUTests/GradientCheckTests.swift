import Foundation
import Testing
@testable import SwiftTuneCPU
import SwiftTuneTensor
import SwiftTuneTestSupport

/// Every backward kernel, instantiated with `Double`, against central finite differences of a random linear
/// functional `L = Σ w ∘ out` of its forward. Sizes are deliberately odd (D = 13, N = 7, hd = 6, unequal
/// sequences) so no block size hides an indexing bug.
@Suite("Backward kernels vs f64 finite differences")
struct GradientCheckTests {
    @Test func swiglu() {
        var random = SeededGenerator(seed: 11)
        let count = 13
        let gate = random.values(count, in: -3...3), up = random.values(count, in: -2...2), w = random.values(count)
        var gradGate = zeros(count), gradUp = zeros(count)
        CPUKernels.swigluBackward(gate: gate, up: up, gradOutput: w, into: &gradGate, gradUp: &gradUp, range: 0..<count)
        expectGradient(gradGate, numericalGradient(at: gate) { weightedSum(w, Reference.swiglu(gate: $0, up: up)) },
                       "swiglu dgate")
        expectGradient(gradUp, numericalGradient(at: up) { weightedSum(w, Reference.swiglu(gate: gate, up: $0)) },
                       "swiglu dup")
    }

    @Test func rmsNorm() {
        var random = SeededGenerator(seed: 12)
        let (rows, width, epsilon) = (7, 13, 1e-5)
        let x = random.values(rows * width, in: -2...2), weight = random.values(width, in: 0.5...1.5)
        let w = random.values(rows * width)
        let forward = Reference.rmsNorm(x, weight: weight, epsilon: epsilon)
        var gradInput = zeros(rows * width)
        CPUKernels.rmsNormBackwardInput(x, weight: weight, inverseRMS: forward.inverseRMS, gradOutput: w,
                                        width: width, into: &gradInput, rows: 0..<rows)
        // The weight gradient accumulates: start from a nonzero gradient, in two column strips.
        let initial = random.values(width)
        var gradWeight = initial
        for columns in [0..<5, 5..<width] {
            CPUKernels.rmsNormBackwardWeight(x, inverseRMS: forward.inverseRMS, gradOutput: w, rows: rows,
                                             width: width, into: &gradWeight, columns: columns)
        }
        expectGradient(gradInput, numericalGradient(at: x) {
            weightedSum(w, Reference.rmsNorm($0, weight: weight, epsilon: epsilon).out)
        }, "rmsNorm dx")
        expectGradient(zip(gradWeight, initial).map(-), numericalGradient(at: weight) {
            weightedSum(w, Reference.rmsNorm(x, weight: $0, epsilon: epsilon).out)
        }, "rmsNorm dweight (accumulated)")
    }

    /// The backward of RoPE is `rope(inverse: true)`, also when `attentionScaling ≠ 1` (YaRN), where the
    /// transpose is not the inverse.
    @Test(arguments: [1.0, 0.8125])
    func ropeInverseIsBackward(attentionScaling: Double) {
        var random = SeededGenerator(seed: 13)
        let (tokens, heads, headDim) = (7, 3, 6)
        let x = random.values(tokens * heads * headDim), w = random.values(tokens * heads * headDim)
        let positions = random.integers(tokens, in: 0..<40)
        let frequencies = RoPETestData.inverseFrequencies(headDim: headDim)
        func rope(_ input: [Double], inverse: Bool) -> [Double] {
            Reference.rope(input, positions: positions, inverseFrequencies: frequencies, heads: heads,
                           attentionScaling: attentionScaling, inverse: inverse)
        }
        expectGradient(rope(w, inverse: true), numericalGradient(at: x) { weightedSum(w, rope($0, inverse: false)) },
                       "rope dx (scaling \(attentionScaling))")
    }

    @Test func embeddingScatterAddsRepeatedIDs() {
        var random = SeededGenerator(seed: 14)
        let (vocabulary, width) = (5, 13)
        let ids = [3, 1, 3, 0, 3, 4, 1]
        let table = random.values(vocabulary * width), w = random.values(ids.count * width)
        let initial = random.values(vocabulary * width)
        var gradTable = initial
        for columns in [0..<6, 6..<width] {
            CPUKernels.embeddingBackward(ids: ids.map { Int32($0) }, gradOutput: w, tokens: ids.count, width: width,
                                         into: &gradTable, columns: columns)
        }
        let numeric = numericalGradient(at: table) { weightedSum(w, Reference.embedding(ids: ids, table: $0, width: width)) }
        expectGradient(zip(gradTable, initial).map(-), numeric, "embedding dtable (accumulated)")
        // Row 2 is never looked up: its gradient stays as it was.
        #expect(Array(gradTable[(2 * width)..<(3 * width)]) == Array(initial[(2 * width)..<(3 * width)]))
    }

    @Test func crossEntropyGradientWithIgnoredRows() {
        var random = SeededGenerator(seed: 15)
        let (rows, vocabulary, gradientScale) = (7, 13, 0.375)
        let logits = random.values(rows * vocabulary, in: -3...3)
        var targets = random.integers(rows, in: 0..<vocabulary)
        targets[2] = -100
        targets[5] = -100
        let analytic = Reference.crossEntropy(logits: logits, targets: targets, gradientScale: gradientScale).gradient
        let numeric = numericalGradient(at: logits) {
            gradientScale * Reference.crossEntropy(logits: $0, targets: targets, gradientScale: nil).totals.lossSum
        }
        expectGradient(analytic, numeric, "crossEntropy dlogits")
        for row in [2, 5] {
            #expect(analytic[(row * vocabulary)..<((row + 1) * vocabulary)].allSatisfy { $0 == 0 },
                    "ignored row \(row) must have a zero gradient")
        }
    }

    @Test(arguments: [
        AttentionCase(starts: [0, 4, 6, 11], queryHeads: 6, kvHeads: 2, headDim: 6, window: 3, scale: 0.40625),
        AttentionCase(starts: [0, 5, 7], queryHeads: 6, kvHeads: 2, headDim: 6, window: nil, scale: 0.40625),
        AttentionCase(starts: [0, 3, 9], queryHeads: 2, kvHeads: 1, headDim: 5, window: 2, scale: 0.5),
    ])
    func attention(_ problem: AttentionCase) {
        var random = SeededGenerator(seed: 16)
        let query = random.values(problem.queryCount, in: -2...2)
        let key = random.values(problem.kvCount, in: -2...2), value = random.values(problem.kvCount)
        let w = random.values(problem.queryCount)
        let forward = problem.forward(query: query, key: key, value: value)
        let grads = problem.backward(query: query, key: key, value: value, output: forward.out,
                                     logSumExp: forward.logSumExp, gradOutput: w)
        expectGradient(grads.query, numericalGradient(at: query) {
            weightedSum(w, problem.forward(query: $0, key: key, value: value).out)
        }, "attention dq (\(problem))")
        expectGradient(grads.key, numericalGradient(at: key) {
            weightedSum(w, problem.forward(query: query, key: $0, value: value).out)
        }, "attention dk (\(problem))")
        expectGradient(grads.value, numericalGradient(at: value) {
            weightedSum(w, problem.forward(query: query, key: key, value: $0).out)
        }, "attention dv (\(problem))")
    }
}

/// Shared RoPE inputs.
enum RoPETestData {
    /// Llama's `1 / 10000^(2i / hd)`, rounded to f32.
    static func inverseFrequencies(headDim: Int, base: Double = 10_000) -> [Double] {
        (0..<(headDim / 2)).map { Double(Float(1 / pow(base, Double(2 * $0) / Double(headDim)))) }
    }
}
