@testable import SwiftTuneCPU

/// The `CPUKernels` instantiated with `Double` on arrays, each run whole on one thread: the f64 side of the
/// gradient checks and the oracle for the f32 backend.
enum Reference {
    /// `silu(gate) · up`.
    static func swiglu(gate: [Double], up: [Double]) -> [Double] {
        var out = zeros(gate.count)
        CPUKernels.swiglu(gate: gate, up: up, into: &out, range: 0..<gate.count)
        return out
    }

    /// x `[N, D]`, weight `[D]` → out `[N, D]`, inverseRMS `[N]`.
    static func rmsNorm(_ x: [Double], weight: [Double], epsilon: Double) -> (out: [Double], inverseRMS: [Double]) {
        let rows = x.count / weight.count
        var out = zeros(x.count), inverseRMS = zeros(rows)
        CPUKernels.rmsNorm(x, weight: weight, epsilon: epsilon, width: weight.count, into: &out,
                           inverseRMS: &inverseRMS, rows: 0..<rows)
        return (out, inverseRMS)
    }

    /// x `[N, H, hd]`, positions `[N]`, inverseFrequencies `[hd/2]` → `[N, H, hd]`.
    static func rope(_ x: [Double], positions: [Int], inverseFrequencies: [Double], heads: Int,
                     attentionScaling: Double, inverse: Bool) -> [Double] {
        var out = zeros(x.count)
        CPUKernels.rope(x, positions: positions.map { Int32($0) }, inverseFrequencies: inverseFrequencies,
                        attentionScaling: attentionScaling, inverse: inverse, heads: heads,
                        headDim: inverseFrequencies.count * 2, into: &out, tokens: 0..<positions.count)
        return out
    }

    /// table `[V, D]` gathered by ids `[N]` → `[N, D]`.
    static func embedding(ids: [Int], table: [Double], width: Int) -> [Double] {
        var out = zeros(ids.count * width)
        CPUKernels.embedding(ids: ids.map { Int32($0) }, table: table, width: width, into: &out, tokens: 0..<ids.count)
        return out
    }

    /// Per-row `log p(target)` of logits `[N, V]`, and the gradient when `gradientScale` is set.
    static func crossEntropy(logits: [Double], targets: [Int], gradientScale: Double?)
        -> (logProbabilities: [Double], gradient: [Double], totals: CrossEntropyTotals) {
        let rows = targets.count
        var gradient = logits, logProbabilities = zeros(rows)
        var predictions = [Int32](repeating: 0, count: rows)
        let labels = targets.map { Int32($0) }
        CPUKernels.crossEntropy(logits: &gradient, targets: labels, vocabulary: logits.count / max(rows, 1),
                                gradientScale: gradientScale, logProbabilities: &logProbabilities,
                                predictions: &predictions, rows: 0..<rows)
        let totals = CPUKernels.crossEntropyTotals(targets: labels, logProbabilities: logProbabilities,
                                                   predictions: predictions, rows: rows)
        return (logProbabilities, gradient, totals)
    }

    /// The row-major product `alpha · op(a) · op(b) + beta · c` for one matrix.
    static func gemm(_ shape: GEMMShape, alpha: Double, a: [Double], b: [Double], beta: Double, c: [Double]) -> [Double] {
        var out = c
        CPUKernels.gemm(shape, alpha: alpha, a: a, b: b, beta: beta, c: &out, rows: 0..<shape.m)
        return out
    }
}

/// One packed attention problem: sequences by their starts, GQA heads, an optional window.
struct AttentionCase: Sendable, CustomStringConvertible {
    var starts: [Int]
    var queryHeads: Int
    var kvHeads: Int
    var headDim: Int
    var window: Int?
    var scale: Double

    var tokens: Int { starts.last ?? 0 }
    var shape: AttentionShape {
        AttentionShape(tokens: tokens, queryHeads: queryHeads, kvHeads: kvHeads, headDim: headDim)
    }
    var sequences: [Range<Int>] { zip(starts, starts.dropFirst()).map { $0..<$1 } }
    var queryCount: Int { tokens * queryHeads * headDim }
    var kvCount: Int { tokens * kvHeads * headDim }

    var description: String {
        "starts \(starts), Hq \(queryHeads), Hkv \(kvHeads), hd \(headDim), window \(window.map(String.init) ?? "none")"
    }

    /// Forward through the f64 kernel: out `[N, Hq, hd]`, logSumExp `[N, Hq]`.
    func forward(query: [Double], key: [Double], value: [Double]) -> (out: [Double], logSumExp: [Double]) {
        var out = zeros(queryCount), logSumExp = zeros(tokens * queryHeads), scores = zeros(max(tokens, 1))
        for sequence in sequences {
            for head in 0..<queryHeads {
                CPUKernels.attentionForward(query: query, key: key, value: value, shape: shape, sequence: sequence,
                                            head: head, window: window, scale: scale, into: &out,
                                            logSumExp: &logSumExp, scores: &scores)
            }
        }
        return (out, logSumExp)
    }

    /// Backward through the f64 kernel: gradients of query, key, value.
    func backward(query: [Double], key: [Double], value: [Double], output: [Double], logSumExp: [Double],
                  gradOutput: [Double]) -> (query: [Double], key: [Double], value: [Double]) {
        var gradQuery = zeros(queryCount), gradKey = zeros(kvCount), gradValue = zeros(kvCount)
        for sequence in sequences {
            for kvHead in 0..<kvHeads {
                CPUKernels.attentionBackward(query: query, key: key, value: value, output: output,
                                             logSumExp: logSumExp, gradOutput: gradOutput, shape: shape,
                                             sequence: sequence, kvHead: kvHead, window: window, scale: scale,
                                             into: &gradQuery, gradKey: &gradKey, gradValue: &gradValue)
            }
        }
        return (gradQuery, gradKey, gradValue)
    }
}
