import Foundation
import Testing
@testable import SwiftTuneCPU
import SwiftTuneTensor

/// Attention against a naive implementation with a dense `[N, N]` mask, written here independently of the
/// kernel: same-sequence, causal, windowed, GQA head mapping `h / (Hq / Hkv)`.
@Suite("Attention vs a dense-mask reference")
struct AttentionTests {
    static let cases: [AttentionCase] = [
        AttentionCase(starts: [0, 4, 6, 11], queryHeads: 6, kvHeads: 2, headDim: 6, window: 3, scale: 0.40625),
        AttentionCase(starts: [0, 7], queryHeads: 4, kvHeads: 4, headDim: 8, window: nil, scale: 0.353515625),
        AttentionCase(starts: [0, 4, 4, 9], queryHeads: 3, kvHeads: 1, headDim: 5, window: 1, scale: 0.5),
        AttentionCase(starts: [0, 2, 9, 12], queryHeads: 4, kvHeads: 2, headDim: 7, window: 50, scale: 0.375),
    ]

    /// out `[N, Hq, hd]` and logSumExp `[N, Hq]` with an explicit mask and a softmax over all N keys.
    static func denseAttention(_ problem: AttentionCase, query: [Double], key: [Double], value: [Double])
        -> (out: [Double], logSumExp: [Double]) {
        let (n, hq, hkv, hd) = (problem.tokens, problem.queryHeads, problem.kvHeads, problem.headDim)
        let sequenceOf = (0..<n).map { token in problem.sequences.firstIndex { $0.contains(token) } ?? -1 }
        func visible(_ i: Int, _ j: Int) -> Bool {
            sequenceOf[i] == sequenceOf[j] && j <= i && (problem.window.map { i - j < $0 } ?? true)
        }
        var out = zeros(n * hq * hd), logSumExp = zeros(n * hq)
        for i in 0..<n {
            for h in 0..<hq {
                let g = h / (hq / hkv)
                let scores = (0..<n).map { j -> Double in
                    guard visible(i, j) else { return -.infinity }
                    return problem.scale * (0..<hd).reduce(0) { $0 + query[(i * hq + h) * hd + $1] * key[(j * hkv + g) * hd + $1] }
                }
                let maxScore = scores.max() ?? 0
                let weights = scores.map { exp($0 - maxScore) }
                let total = weights.reduce(0, +)
                logSumExp[i * hq + h] = maxScore + log(total)
                for j in 0..<n where weights[j] > 0 {
                    for d in 0..<hd { out[(i * hq + h) * hd + d] += weights[j] / total * value[(j * hkv + g) * hd + d] }
                }
            }
        }
        return (out, logSumExp)
    }

    @Test(arguments: cases)
    func kernelAndBackendMatchDenseMask(_ problem: AttentionCase) throws {
        var random = SeededGenerator(seed: 21)
        let query = random.values(problem.queryCount, in: -2...2)
        let key = random.values(problem.kvCount, in: -2...2), value = random.values(problem.kvCount)
        let dense = Self.denseAttention(problem, query: query, key: key, value: value)

        let kernel = problem.forward(query: query, key: key, value: value)
        expectClose(kernel.out, dense.out, tol: 1e-12, "f64 kernel out (\(problem))")
        expectClose(kernel.logSumExp, dense.logSumExp, tol: 1e-12, "f64 kernel logSumExp (\(problem))")

        let backend = protocolBackend()
        let (n, hq, hkv, hd) = (problem.tokens, problem.queryHeads, problem.kvHeads, problem.headDim)
        let out = try backend.empty([n, hq, hd]), logSumExp = try backend.empty([n, hq])
        try backend.attention(query: try backend.f32(query, [n, hq, hd]), key: try backend.f32(key, [n, hkv, hd]),
                              value: try backend.f32(value, [n, hkv, hd]),
                              sequenceStarts: try backend.i32(problem.starts, [problem.starts.count]),
                              slidingWindow: problem.window, scale: Float(problem.scale), into: out,
                              logSumExp: logSumExp)
        expectClose(try backend.doubles(out), dense.out, tol: 1e-5, "f32 backend out (\(problem))")
        expectClose(try backend.doubles(logSumExp), dense.logSumExp, tol: 1e-5, "f32 backend logSumExp (\(problem))")
    }

    @Test(arguments: cases)
    func backendBackwardMatchesF64Kernel(_ problem: AttentionCase) throws {
        var random = SeededGenerator(seed: 22)
        let query = random.values(problem.queryCount, in: -2...2)
        let key = random.values(problem.kvCount, in: -2...2), value = random.values(problem.kvCount)
        let gradOutput = random.values(problem.queryCount)
        // Both sides start from the same f32-rounded output and log-sum-exp.
        let forward = problem.forward(query: query, key: key, value: value)
        let output = forward.out.map { Double(Float($0)) }, logSumExp = forward.logSumExp.map { Double(Float($0)) }
        let expected = problem.backward(query: query, key: key, value: value, output: output, logSumExp: logSumExp,
                                        gradOutput: gradOutput)

        let backend = protocolBackend()
        let (n, hq, hkv, hd) = (problem.tokens, problem.queryHeads, problem.kvHeads, problem.headDim)
        let gradQuery = try backend.empty([n, hq, hd])
        let gradKey = try backend.empty([n, hkv, hd]), gradValue = try backend.empty([n, hkv, hd])
        try backend.attentionBackward(
            query: try backend.f32(query, [n, hq, hd]), key: try backend.f32(key, [n, hkv, hd]),
            value: try backend.f32(value, [n, hkv, hd]), output: try backend.f32(output, [n, hq, hd]),
            logSumExp: try backend.f32(logSumExp, [n, hq]), gradOutput: try backend.f32(gradOutput, [n, hq, hd]),
            sequenceStarts: try backend.i32(problem.starts, [problem.starts.count]), slidingWindow: problem.window,
            scale: Float(problem.scale), into: gradQuery, gradKey: gradKey, gradValue: gradValue)
        expectClose(try backend.doubles(gradQuery), expected.query, tol: 2e-5, "f32 backend dq (\(problem))")
        expectClose(try backend.doubles(gradKey), expected.key, tol: 2e-5, "f32 backend dk (\(problem))")
        expectClose(try backend.doubles(gradValue), expected.value, tol: 2e-5, "f32 backend dv (\(problem))")
    }

    /// Work is split by (sequence, head), so the thread count must not change a single bit.
    @Test func resultsDoNotDependOnThreadCount() throws {
        let problem = Self.cases[0]
        var random = SeededGenerator(seed: 23)
        let (n, hq, hkv, hd) = (problem.tokens, problem.queryHeads, problem.kvHeads, problem.headDim)
        let query = random.values(problem.queryCount), key = random.values(problem.kvCount)
        let value = random.values(problem.kvCount), gradOutput = random.values(problem.queryCount)
        var results: [[Float]] = []
        for threads in [1, 3] {
            let backend = protocolBackend(threadCount: threads)
            let q = try backend.f32(query, [n, hq, hd]), k = try backend.f32(key, [n, hkv, hd])
            let v = try backend.f32(value, [n, hkv, hd]), starts = try backend.i32(problem.starts, [problem.starts.count])
            let out = try backend.empty([n, hq, hd]), lse = try backend.empty([n, hq])
            try backend.attention(query: q, key: k, value: v, sequenceStarts: starts, slidingWindow: problem.window,
                                  scale: Float(problem.scale), into: out, logSumExp: lse)
            let dq = try backend.empty([n, hq, hd]), dk = try backend.empty([n, hkv, hd]), dv = try backend.empty([n, hkv, hd])
            try backend.attentionBackward(query: q, key: k, value: v, output: out, logSumExp: lse,
                                          gradOutput: try backend.f32(gradOutput, [n, hq, hd]), sequenceStarts: starts,
                                          slidingWindow: problem.window, scale: Float(problem.scale),
                                          into: dq, gradKey: dk, gradValue: dv)
            results.append(try [out, lse, dq, dk, dv].flatMap { try backend.floats($0) })
        }
        #expect(results[0] == results[1])
    }
}
