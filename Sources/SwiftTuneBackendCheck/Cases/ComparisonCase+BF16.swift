#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwiftTuneTensor

extension ComparisonCase {
    /// The bf16 cases: every op with a bf16 kernel (attention's in `ComparisonCase+BF16Attention.swift`), on awkward sizes: one row, many
    /// rows, odd widths, widths not a multiple of 8, a view at an odd element offset (so the kernels' two-element
    /// accesses fall back to single ones), and the matrix products in bf16 → bf16 and bf16 → f32.
    static func bf16Cases(seed: UInt64) -> [BF16ComparisonCase] {
        bf16ElementwiseCases(seed: seed) + bf16LayerCases(seed: seed &+ 1) + bf16MatmulCases(seed: seed &+ 2)
            + bf16GenerationCases(seed: seed &+ 3) + bf16AttentionCases(seed: seed &+ 4)
            + bf16LoRACases(seed: seed &+ 5)
    }
}

/// Seeded inputs already rounded to bf16, so both backends see exactly the same values.
struct BF16Inputs {
    var random: SeededGenerator

    init(seed: UInt64) { random = SeededGenerator(seed: seed) }

    mutating func values(_ count: Int, _ scale: Float = 1) -> [Float] {
        (0..<count).map { _ in BF16ComparisonCase.rounded(Float.random(in: -scale...scale, using: &random)) }
    }

    mutating func ids(_ count: Int, below bound: Int) -> [Int32] {
        (0..<count).map { _ in Int32.random(in: 0..<Int32(bound), using: &random) }
    }
}

/// Collects cases; every variant is prefixed with `bf16`.
struct BF16CaseList {
    var cases: [BF16ComparisonCase] = []

    mutating func add(_ op: String, _ variant: String, _ tolerance: ComparisonTolerance,
                      _ run: @escaping (any Backend, DType) throws -> [BF16Output]) {
        cases.append(BF16ComparisonCase(op: op, variant: "bf16 " + variant, tolerance: tolerance, run: run))
    }
}

extension ComparisonCase {
    /// Elementwise ops, reductions, SwiGLU and dropout over `[rows, width]`: one row of 515, 37 × 100, 301 × 13,
    /// 4 × 8, and rows 1..<38 of a `[38, 13]` tensor (an odd element offset).
    static func bf16ElementwiseCases(seed: UInt64) -> [BF16ComparisonCase] {
        var inputs = BF16Inputs(seed: seed)
        var list = BF16CaseList()
        for (rows, width, offset) in [(1, 515, 0), (37, 100, 0), (301, 13, 0), (4, 8, 0), (37, 13, 1)] {
            let count = rows * width, shape = [rows, width]
            let total = count + offset * width
            let (a, b, c) = (inputs.values(total), inputs.values(total), inputs.values(total))
            let (gate, dropoutInput) = (inputs.values(total, 6), inputs.values(total, 3))
            let bias = inputs.values(width), sums = inputs.values(width, 4)
            let name = offset == 0 ? "\(shape)" : "rows 1..<\(rows + 1) of [\(rows + 1), \(width)]"
            // The op's input `values` in `storage`, as a view from row `offset` when there is one.
            func tensor(_ backend: any Backend, _ values: [Float], _ storage: DType) throws -> Tensor {
                let whole = try backend.tensor(values, shape: [rows + offset, width], dtype: storage)
                return offset == 0 ? whole : try whole.rows(offset..<(rows + offset))
            }
            list.add("add", "\(name), scale 0.5, in place", Tolerance.elementwise) { backend, storage in
                let x = try tensor(backend, a, storage)
                try backend.add(x, try tensor(backend, b, storage), scale: 0.5, into: x)
                return [try BF16Output("out", backend, x)]
            }
            list.add("scale", "\(name), by -1.7", Tolerance.elementwise) { backend, storage in
                let out = try backend.empty(shape, dtype: storage)
                try backend.scale(try tensor(backend, a, storage), by: -1.7, into: out)
                return [try BF16Output("out", backend, out)]
            }
            list.add("scaleByDeviceScalar", "\(name), × 0.37, in place", Tolerance.elementwise) { backend, storage in
                let x = try tensor(backend, a, storage)
                try backend.scale(x, byDeviceScalar: try backend.tensor([0.37], shape: [1]), into: x)
                return [try BF16Output("out", backend, x)]
            }
            list.add("addBias", "\(name) + [\(width)]", Tolerance.elementwise) { backend, storage in
                let out = try backend.empty(shape, dtype: storage)
                try backend.addBias(try tensor(backend, a, storage),
                                    bias: try backend.tensor(bias, shape: [width], dtype: storage), into: out)
                return [try BF16Output("out", backend, out)]
            }
            for (accumulate, into) in [(false, DType.f32), (true, .f32), (true, .bf16)] {
                list.add("sumRows", "\(name) into \(into)\(accumulate ? ", accumulate" : "")",
                         Tolerance.reduction) { backend, storage in
                    let out = try backend.tensor(sums, shape: [width], dtype: into == .f32 ? .f32 : storage)
                    try backend.sumRows(try tensor(backend, a, storage), into: out, accumulate: accumulate)
                    return [try BF16Output("out", backend, out, into == .f32 ? .statistic : nil)]
                }
            }
            list.add("sumOfSquares", "\(name), accumulate", Tolerance.reduction) { backend, storage in
                let out = try backend.tensor([2.5], shape: [1])
                try backend.sumOfSquares(try tensor(backend, a, storage), into: out, accumulate: true)
                return [try BF16Output("out", backend, out, .statistic)]
            }
            list.add("swiglu", "\(name)", Tolerance.elementwise) { backend, storage in
                let out = try backend.empty(shape, dtype: storage)
                try backend.swiglu(gate: try tensor(backend, gate, storage), up: try tensor(backend, b, storage),
                                   into: out)
                return [try BF16Output("out", backend, out)]
            }
            list.add("swigluBackward", "\(name)", Tolerance.elementwise) { backend, storage in
                let gradGate = try backend.empty(shape, dtype: storage), gradUp = try backend.empty(shape, dtype: storage)
                try backend.swigluBackward(gate: try tensor(backend, gate, storage),
                                           up: try tensor(backend, b, storage),
                                           gradOutput: try tensor(backend, c, storage), into: gradGate, gradUp: gradUp)
                return [try BF16Output("gradGate", backend, gradGate), try BF16Output("gradUp", backend, gradUp)]
            }
            for (probability, seed, inPlace) in [(Float(0.1), UInt64(7), true), (0.5, 0xDEAD_BEEF_0123_4567, false)] {
                list.add("dropout", "\(name), p \(probability)\(inPlace ? ", in place" : "")", .exact) { backend, storage in
                    let x = try tensor(backend, dropoutInput, storage)
                    let out = inPlace ? x : try backend.empty(shape, dtype: storage)
                    try backend.dropout(x, probability: probability, seed: seed, into: out)
                    return [try BF16Output("out", backend, out, .copy)]
                }
            }
        }
        return list.cases
    }
}

extension ComparisonCase {
    /// Embedding (V = 301, repeated ids) at widths 13, 100 and 515; RMSNorm forward and backward on one row of 515,
    /// 37 × 100, 301 × 13 and 3 × 1029; RoPE on `[37, 6, 12]`, `[5, 3, 128]` and `[1, 1, 2]`.
    static func bf16LayerCases(seed: UInt64) -> [BF16ComparisonCase] {
        var inputs = BF16Inputs(seed: seed)
        var list = BF16CaseList()
        let (tokens, vocabulary) = (37, 301)
        var ids = inputs.ids(tokens, below: vocabulary)
        (ids[5], ids[30]) = (ids[3], ids[3])  // repeated ids accumulate in the backward pass
        for width in [13, 100, 515] {
            let table = inputs.values(vocabulary * width), gradOutput = inputs.values(tokens * width)
            let gradTableStart = inputs.values(vocabulary * width)
            list.add("embedding", "V \(vocabulary), width \(width)", .exact) { backend, storage in
                let out = try backend.empty([tokens, width], dtype: storage)
                try backend.embedding(ids: try backend.tensor(ids, shape: [tokens]),
                                      table: try backend.tensor(table, shape: [vocabulary, width], dtype: storage),
                                      into: out)
                return [try BF16Output("out", backend, out, .copy)]
            }
            for into in [DType.f32, .bf16] {
                list.add("embeddingBackward", "width \(width) into \(into), repeated ids",
                         Tolerance.elementwise) { backend, storage in
                    let gradTable = try backend.tensor(gradTableStart, shape: [vocabulary, width],
                                                       dtype: into == .f32 ? .f32 : storage)
                    try backend.embeddingBackward(
                        ids: try backend.tensor(ids, shape: [tokens]),
                        gradOutput: try backend.tensor(gradOutput, shape: [tokens, width], dtype: storage), into: gradTable)
                    return [try BF16Output("gradTable", backend, gradTable, into == .f32 ? .statistic : nil)]
                }
            }
        }

        let epsilon: Float = 1e-6
        for (rows, width) in [(1, 515), (37, 100), (301, 13), (3, 1029)] {
            let shape = [rows, width]
            let x = inputs.values(rows * width, 2), gradOutput = inputs.values(rows * width)
            let weight = inputs.values(width).map { BF16ComparisonCase.rounded(1 + 0.25 * $0) }
            let gradWeightStart = inputs.values(width)
            let inverseRMS = (0..<rows).map { row -> Float in
                let squares = x[(row * width)..<((row + 1) * width)].reduce(0.0) { $0 + Double($1) * Double($1) }
                return Float(1 / (squares / Double(width) + Double(epsilon)).squareRoot())
            }
            list.add("rmsNorm", "\(shape), eps 1e-6", Tolerance.layer) { backend, storage in
                let out = try backend.empty(shape, dtype: storage), rms = try backend.empty([rows])
                try backend.rmsNorm(try backend.tensor(x, shape: shape, dtype: storage),
                                    weight: try backend.tensor(weight, shape: [width], dtype: storage), epsilon: epsilon,
                                    into: out, inverseRMS: rms)
                return [try BF16Output("out", backend, out), try BF16Output("inverseRMS", backend, rms, .statistic)]
            }
            for (into, inPlace) in [(DType.f32, false), (.bf16, false), (.f32, true)] {
                list.add("rmsNormBackward", "\(shape), gradWeight \(into)\(inPlace ? ", gradInput = gradOutput" : "")",
                         Tolerance.layer) { backend, storage in
                    let gradient = try backend.tensor(gradOutput, shape: shape, dtype: storage)
                    let gradInput = inPlace ? gradient : try backend.empty(shape, dtype: storage)
                    let gradWeight = try backend.tensor(gradWeightStart, shape: [width], dtype: into == .f32 ? .f32 : storage)
                    try backend.rmsNormBackward(try backend.tensor(x, shape: shape, dtype: storage),
                                                weight: try backend.tensor(weight, shape: [width], dtype: storage),
                                                inverseRMS: try backend.tensor(inverseRMS, shape: [rows]),
                                                gradOutput: gradient, into: gradInput, gradWeight: gradWeight)
                    return [try BF16Output("gradInput", backend, gradInput),
                            try BF16Output("gradWeight", backend, gradWeight, into == .f32 ? .statistic : nil)]
                }
            }
        }

        for (shape, inverse, scaling, inPlace) in [([37, 6, 12], false, Float(1), false), ([37, 6, 12], true, 1, false),
                                                   ([5, 3, 128], false, 1.2, true), ([1, 1, 2], true, 1, false)] {
            let (count, headDim) = (shape.reduce(1, *), shape[2])
            let x = inputs.values(count)
            let positions = (0..<Int32(shape[0])).map { $0 * 7 % 23 }
            let inverseFrequencies = (0..<(headDim / 2)).map { Float(pow(10_000.0, -2.0 * Double($0) / Double(headDim))) }
            let name = "\(shape) \(inverse ? "inverse" : "forward")\(scaling != 1 ? ", scaling \(scaling)" : "")"
            list.add("rope", name + (inPlace ? ", in place" : ""), Tolerance.layer) { backend, storage in
                let input = try backend.tensor(x, shape: shape, dtype: storage)
                let out = inPlace ? input : try backend.empty(shape, dtype: storage)
                try backend.rope(input, positions: try backend.tensor(positions, shape: [shape[0]]),
                                 inverseFrequencies: try backend.tensor(inverseFrequencies, shape: [headDim / 2]),
                                 attentionScaling: scaling, inverse: inverse, into: out)
                return [try BF16Output("out", backend, out)]
            }
        }
        return list.cases
    }
}

extension ComparisonCase {
    /// The cuBLASLt products with bf16 a and b, into bf16 c or f32 c (beta 0 and 1: the f32 master-gradient
    /// accumulation), every transpose, shared and batched b, at M = 37, K = 64, N = 48 (leading dimensions multiples of
    /// 8) and M = 37, K = 45, N = 13 (odd ones).
    static func bf16MatmulCases(seed: UInt64) -> [BF16ComparisonCase] {
        var inputs = BF16Inputs(seed: seed)
        var list = BF16CaseList()
        for (m, k, n) in [(37, 64, 48), (37, 45, 13)] {
            let batch = 3
            let variants: [(name: String, a: [Int], b: [Int], c: [Int], tA: Bool, tB: Bool, alpha: Float, beta: Float,
                            into: DType)] = [
                ("NN", [m, k], [k, n], [m, n], false, false, 1, 0, .bf16),
                ("NT", [m, k], [n, k], [m, n], false, true, 1, 0, .bf16),
                ("TN", [k, m], [k, n], [m, n], true, false, 1, 0, .bf16),
                ("TT", [k, m], [n, k], [m, n], true, true, 1, 0, .bf16),
                ("NN alpha 0.7 beta 0.3", [m, k], [k, n], [m, n], false, false, 0.7, 0.3, .bf16),
                ("NN", [m, k], [k, n], [m, n], false, false, 1, 0, .f32),
                ("TN beta 1", [k, m], [k, n], [m, n], true, false, 1, 1, .f32),
                ("NT beta 1", [m, k], [n, k], [m, n], false, true, 1, 1, .f32),
                ("NN batch 3, shared b", [batch, m, k], [k, n], [batch, m, n], false, false, 1, 0, .bf16),
                ("TN batch 3, shared b", [batch, k, m], [k, n], [batch, m, n], true, false, 1, 1, .f32),
                ("TN batch 3, batched b", [batch, k, m], [batch, k, n], [batch, m, n], true, false, 1, 0.5, .f32),
                ("NT [3,2] batch, batched b", [batch, 2, m, k], [batch, 2, n, k], [batch, 2, m, n], false, true, -1, 0,
                 .bf16),
            ]
            for variant in variants {
                let a = inputs.values(variant.a.reduce(1, *)), b = inputs.values(variant.b.reduce(1, *))
                let c = inputs.values(variant.c.reduce(1, *))
                list.add("matmul", "\(m)×\(k)×\(n) \(variant.name) into \(variant.into)",
                         Tolerance.matmul) { backend, storage in
                    let out = try backend.tensor(c, shape: variant.c, dtype: variant.into == .f32 ? .f32 : storage)
                    try backend.matmul(try backend.tensor(a, shape: variant.a, dtype: storage),
                                       try backend.tensor(b, shape: variant.b, dtype: storage), into: out,
                                       transposeA: variant.tA, transposeB: variant.tB, alpha: variant.alpha,
                                       beta: variant.beta)
                    return [try BF16Output("c", backend, out, variant.into == .f32 ? .statistic : nil)]
                }
            }
        }
        return list.cases
    }

    /// The paged KV cache in bf16: 3 sequences (a 9-token prompt, one decode token after 13 cached, 3 new after 3
    /// cached), Hq = 4, Hkv = 2, hd = 16, blocks of 4 in a shuffled pool of 12, with and without a window of 3.
    static func bf16GenerationCases(seed: UInt64) -> [BF16ComparisonCase] {
        var inputs = BF16Inputs(seed: seed)
        var list = BF16CaseList()
        let (queryHeads, keyValueHeads, headDim, blockSize, blocks) = (4, 2, 16, 4, 12)
        let newTokens = [9, 1, 3], contexts = [9, 14, 6]
        let tokens = newTokens.reduce(0, +), rowWidth = keyValueHeads * headDim
        var queryStarts: [Int32] = [0]
        for count in newTokens { queryStarts.append(queryStarts[queryStarts.count - 1] + Int32(count)) }
        var pool = Array(0..<Int32(blocks))
        pool.shuffle(using: &inputs.random)
        let maxBlocks = contexts.map { ($0 + blockSize - 1) / blockSize }.max() ?? 1
        var tables = [Int32](repeating: 0, count: contexts.count * maxBlocks)
        var slots: [Int32] = []
        for (s, length) in contexts.enumerated() {
            for block in 0..<((length + blockSize - 1) / blockSize) { tables[s * maxBlocks + block] = pool.removeLast() }
            for position in (length - newTokens[s])..<length {
                slots.append(tables[s * maxBlocks + position / blockSize] * Int32(blockSize) + Int32(position % blockSize))
            }
        }
        var skipped = slots
        skipped[4] = -1  // a skipped row leaves the cache alone
        let cacheShape = [blocks, blockSize, keyValueHeads, headDim]
        let cacheKeys = inputs.values(blocks * blockSize * rowWidth), cacheValues = inputs.values(blocks * blockSize * rowWidth)
        let keys = inputs.values(tokens * rowWidth), values = inputs.values(tokens * rowWidth)
        let query = inputs.values(tokens * queryHeads * headDim)

        func writeAndAttend(_ backend: any Backend, _ storage: DType, slots: [Int32], window: Int?) throws
            -> (Tensor, Tensor, Tensor) {
            let keyCache = try backend.tensor(cacheKeys, shape: cacheShape, dtype: storage)
            let valueCache = try backend.tensor(cacheValues, shape: cacheShape, dtype: storage)
            try backend.writeKeyValueCache(
                key: try backend.tensor(keys, shape: [tokens, keyValueHeads, headDim], dtype: storage),
                value: try backend.tensor(values, shape: [tokens, keyValueHeads, headDim], dtype: storage),
                slots: try backend.tensor(slots, shape: [tokens]), keyCache: keyCache, valueCache: valueCache)
            let out = try backend.empty([tokens, queryHeads, headDim], dtype: storage)
            try backend.pagedAttention(
                query: try backend.tensor(query, shape: [tokens, queryHeads, headDim], dtype: storage),
                keyCache: keyCache, valueCache: valueCache,
                blockTables: try backend.tensor(tables, shape: [contexts.count, maxBlocks]),
                contextLengths: try backend.tensor(contexts.map(Int32.init), shape: [contexts.count]),
                queryStarts: try backend.tensor(queryStarts, shape: [queryStarts.count]),
                slidingWindow: window, scale: 1 / Float(headDim).squareRoot(), into: out)
            return (keyCache, valueCache, out)
        }
        list.add("writeKeyValueCache", "\(tokens) rows, one skipped (-1)", .exact) { backend, storage in
            let (keyCache, valueCache, _) = try writeAndAttend(backend, storage, slots: skipped, window: nil)
            return [try BF16Output("keyCache", backend, keyCache, .copy),
                    try BF16Output("valueCache", backend, valueCache, .copy)]
        }
        for window in [nil, 3] as [Int?] {
            list.add("pagedAttention", "prefill+decode, blocks of 4" + (window.map { ", window \($0)" } ?? ""),
                     Tolerance.attention) { backend, storage in
                let (_, _, out) = try writeAndAttend(backend, storage, slots: slots, window: window)
                return [try BF16Output("out", backend, out)]
            }
        }
        return list.cases
    }
}
