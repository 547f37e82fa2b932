import SwiftTuneCPU
import SwiftTuneTensor

extension ComparisonCase {
    /// bf16 attention forward and backward (the CUDA flash kernels for head dimensions 64 and 128, the f32 detour
    /// for others) against the f32 reference on the same rounded inputs: packed sequences of 1, 17, 64, 129 and 300
    /// tokens (tile edges, a one-token sequence, a sequence of several tiles), grouped-query ratios 1, 2 and 7, with
    /// and without a sliding window.
    static func bf16AttentionCases(seed: UInt64) -> [BF16ComparisonCase] {
        var inputs = BF16Inputs(seed: seed)
        var list = BF16CaseList()
        let lengths = [1, 17, 64, 129, 300]
        let starts = lengths.reduce(into: [Int32(0)]) { $0.append($0.last! + Int32($1)) }
        let tokens = Int(starts.last!)
        let shapes: [(queryHeads: Int, keyValueHeads: Int, headDim: Int, window: Int?)] = [
            (4, 4, 64, nil), (4, 2, 64, 37), (7, 1, 128, nil), (4, 2, 128, 100), (2, 2, 128, 1), (6, 2, 16, nil),
        ]
        for shape in shapes {
            let (hq, hkv, hd) = (shape.queryHeads, shape.keyValueHeads, shape.headDim)
            let query = inputs.values(tokens * hq * hd, 2), key = inputs.values(tokens * hkv * hd, 2)
            let value = inputs.values(tokens * hkv * hd), gradOutput = inputs.values(tokens * hq * hd)
            let scale = 1 / Float(hd).squareRoot()
            let name = "lengths \(lengths), heads \(hq)/\(hkv), hd \(hd)" + (shape.window.map { ", window \($0)" } ?? "")

            func forward(_ backend: any Backend, _ storage: DType) throws
                -> (q: Tensor, k: Tensor, v: Tensor, starts: Tensor, out: Tensor, logSumExp: Tensor) {
                let q = try backend.tensor(query, shape: [tokens, hq, hd], dtype: storage)
                let k = try backend.tensor(key, shape: [tokens, hkv, hd], dtype: storage)
                let v = try backend.tensor(value, shape: [tokens, hkv, hd], dtype: storage)
                let sequenceStarts = try backend.tensor(starts, shape: [starts.count])
                let out = try backend.empty([tokens, hq, hd], dtype: storage)
                let logSumExp = try backend.empty([tokens, hq])
                try backend.attention(query: q, key: k, value: v, sequenceStarts: sequenceStarts,
                                      slidingWindow: shape.window, scale: scale, into: out, logSumExp: logSumExp)
                return (q, k, v, sequenceStarts, out, logSumExp)
            }
            list.add("attention", name, Tolerance.attention) { backend, storage in
                let result = try forward(backend, storage)
                return [try BF16Output("out", backend, result.out),
                        try BF16Output("logSumExp", backend, result.logSumExp, .statistic)]
            }
            // The backward pass takes the f32 reference's forward output rounded to bf16 (what a bf16 forward
            // stores) and its log-sum-exp, the same values on both sides: gradQuery's small entries come from
            // dP - delta, which cancels, so a backward pass from each side's own rounded output would compare the two
            // roundings of the output rather than the kernels.
            let saved = SavedForward {
                let reference = CPUBackend()
                let f = try forward(reference, .f32)
                return (try reference.floats(f.out).map(BF16ComparisonCase.rounded), try reference.floats(f.logSumExp))
            }
            list.add("attentionBackward", name, Tolerance.attentionBackward) { backend, storage in
                let (output, logSumExp) = try saved.values()
                let q = try backend.tensor(query, shape: [tokens, hq, hd], dtype: storage)
                let k = try backend.tensor(key, shape: [tokens, hkv, hd], dtype: storage)
                let v = try backend.tensor(value, shape: [tokens, hkv, hd], dtype: storage)
                let gradQuery = try backend.empty(q.shape, dtype: storage)
                let gradKey = try backend.empty(k.shape, dtype: storage)
                let gradValue = try backend.empty(v.shape, dtype: storage)
                try backend.attentionBackward(
                    query: q, key: k, value: v, output: try backend.tensor(output, shape: q.shape, dtype: storage),
                    logSumExp: try backend.tensor(logSumExp, shape: [tokens, hq]),
                    gradOutput: try backend.tensor(gradOutput, shape: [tokens, hq, hd], dtype: storage),
                    sequenceStarts: try backend.tensor(starts, shape: [starts.count]), slidingWindow: shape.window,
                    scale: scale, into: gradQuery, gradKey: gradKey, gradValue: gradValue)
                return [try BF16Output("gradQuery", backend, gradQuery), try BF16Output("gradKey", backend, gradKey),
                        try BF16Output("gradValue", backend, gradValue)]
            }
        }
        return list.cases
    }
}

/// A forward result computed once, on first use (the reference's output and log-sum-exp of one attention case).
private final class SavedForward: @unchecked Sendable {
    private let compute: () throws -> ([Float], [Float])
    private var result: ([Float], [Float])?

    init(_ compute: @escaping () throws -> ([Float], [Float])) { self.compute = compute }

    func values() throws -> ([Float], [Float]) {
        if let result { return result }
        let computed = try compute()
        result = computed
        return computed
    }
}
