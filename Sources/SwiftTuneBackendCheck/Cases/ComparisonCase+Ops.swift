#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwiftTuneTensor

/// Tolerances per kind of op, for f32 compute.
private enum Tolerance {
    static let elementwise = ComparisonTolerance(absolute: 1e-6, relative: 1e-5)
    static let reduction = ComparisonTolerance(absolute: 1e-5, relative: 1e-5)
    static let matmul = ComparisonTolerance(absolute: 1e-4, relative: 1e-4)
    static let layer = ComparisonTolerance(absolute: 1e-5, relative: 1e-4)
    static let attention = ComparisonTolerance(absolute: 2e-5, relative: 1e-4)
    static let attentionBackward = ComparisonTolerance(absolute: 1e-4, relative: 1e-3)
}

extension ComparisonCase {
    /// The memory, elementwise, reduction, matmul, layer, attention, loss and optimizer ops, with inputs drawn from
    /// `seed`. Sizes: N = 37 tokens in 3 packed sequences (13, 16, 8), D = 72, Hq = 6, Hkv = 2, hd = 12, V = 301.
    static func opCases(seed: UInt64) -> [ComparisonCase] {
        var random = SeededGenerator(seed: seed)
        func values(_ count: Int, _ scale: Float = 1) -> [Float] {
            (0..<count).map { _ in Float.random(in: -scale...scale, using: &random) }
        }
        let (n, d, hq, hkv, hd, v) = (37, 72, 6, 2, 12, 301)
        let starts: [Int32] = [0, 13, 29, 37]
        var cases: [ComparisonCase] = []

        // MARK: Memory
        // Ties and edge cases for round-to-nearest-even: 1 + 2^-8 and 1 + 3·2^-8 are bf16 ties, 1 + 2^-11 an f16 tie.
        let special: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, -(1 + 0x1p-8), 1 + 0x1p-11, 1 + 3 * 0x1p-11, -0.0,
                                65504, 65520, Float(bitPattern: 0x0001_1234), 6e-8, 3.4e38, -3.4e38, .infinity]
        let castInput = special + values(500, 100)
        let doubles = (0..<300).map { _ in Double.random(in: -1000...1000, using: &random) }
        for (source, destination) in [(DType.f32, DType.bf16), (.bf16, .f32), (.f32, .f16), (.f16, .f32),
                                      (.bf16, .f16), (.f32, .f64), (.f64, .f32), (.f64, .bf16)] {
            cases.append(ComparisonCase(op: "cast", variant: "\(source) → \(destination)", tolerance: .exact) { backend in
                let input: Tensor
                if source == .f64 {
                    input = try doubles.withUnsafeBytes {
                        try backend.tensor(bytes: $0, shape: [doubles.count], dtype: .f64)
                    }
                } else {
                    input = try backend.tensor(castInput, shape: [castInput.count], dtype: source)
                }
                let output = try backend.empty(input.shape, dtype: destination)
                try backend.cast(input, to: output)
                return [("out", try backend.floats(output))]
            })
        }
        for dtype in [DType.f32, .bf16, .f16, .f64] {
            cases.append(ComparisonCase(op: "fill", variant: "\(dtype) 0.3", tolerance: .exact) { backend in
                let tensor = try backend.zeros([n, 5], dtype: dtype)
                try backend.fill(tensor, with: 0.3)
                return [("out", try backend.floats(tensor))]
            })
        }
        let copyInput = values(n * d)
        cases.append(ComparisonCase(op: "copy", variant: "rows 5..<20 view", tolerance: .exact) { backend in
            let source = try backend.tensor(copyInput, shape: [n, d]).rows(5..<20)
            let destination = try backend.empty([15, d])
            try backend.copy(source, to: destination)
            return [("out", try backend.floats(destination))]
        })

        // MARK: Elementwise and reductions
        let (a, b, bias) = (values(n * d), values(n * d), values(d))
        cases.append(ComparisonCase(op: "add", variant: "scale 0.5, in place", tolerance: Tolerance.elementwise) { backend in
            let x = try backend.tensor(a, shape: [n, d]), y = try backend.tensor(b, shape: [n, d])
            try backend.add(x, y, scale: 0.5, into: x)
            return [("out", try backend.floats(x))]
        })
        cases.append(ComparisonCase(op: "scale", variant: "by -1.7", tolerance: Tolerance.elementwise) { backend in
            let x = try backend.tensor(a, shape: [n, d]), out = try backend.empty([n, d])
            try backend.scale(x, by: -1.7, into: out)
            return [("out", try backend.floats(out))]
        })
        cases.append(ComparisonCase(op: "addBias", variant: "[37, 72] + [72]", tolerance: Tolerance.elementwise) { backend in
            let x = try backend.tensor(a, shape: [n, d]), out = try backend.empty([n, d])
            try backend.addBias(x, bias: try backend.tensor(bias, shape: [d]), into: out)
            return [("out", try backend.floats(out))]
        })
        for accumulate in [false, true] {
            cases.append(ComparisonCase(op: "sumRows", variant: accumulate ? "accumulate" : "overwrite",
                                        tolerance: Tolerance.reduction) { backend in
                let out = try backend.tensor(bias, shape: [d])
                try backend.sumRows(try backend.tensor(a, shape: [n, d]), into: out, accumulate: accumulate)
                return [("out", try backend.floats(out))]
            })
            cases.append(ComparisonCase(op: "sumOfSquares", variant: accumulate ? "accumulate" : "overwrite",
                                        tolerance: Tolerance.reduction) { backend in
                let out = try backend.tensor([2.5], shape: [1])
                try backend.sumOfSquares(try backend.tensor(a, shape: [n, d]), into: out, accumulate: accumulate)
                return [("out", try backend.floats(out))]
            })
        }

        // MARK: Matrix products (M = 37, K = 72, N = 45)
        let (m, k, columns, batch) = (37, 72, 45, 3)
        let matmulVariants: [(name: String, aShape: [Int], bShape: [Int], cShape: [Int], tA: Bool, tB: Bool,
                              alpha: Float, beta: Float)] = [
            ("NN", [m, k], [k, columns], [m, columns], false, false, 1, 0),
            ("NT", [m, k], [columns, k], [m, columns], false, true, 1, 0),
            ("TN", [k, m], [k, columns], [m, columns], true, false, 1, 0),
            ("TT", [k, m], [columns, k], [m, columns], true, true, 1, 0),
            ("NN alpha 0.7 beta 0.3", [m, k], [k, columns], [m, columns], false, false, 0.7, 0.3),
            ("NN batch 3, shared b", [batch, m, k], [k, columns], [batch, m, columns], false, false, 1, 0),
            ("NT batch 3, shared b", [batch, m, k], [columns, k], [batch, m, columns], false, true, 1, 0),
            ("TN batch 3, shared b", [batch, k, m], [k, columns], [batch, m, columns], true, false, 1, 0),
            ("TN batch 3, batched b", [batch, k, m], [batch, k, columns], [batch, m, columns], true, false, 1, 0.5),
            ("NT [3,2] batch, batched b", [batch, 2, m, k], [batch, 2, columns, k], [batch, 2, m, columns],
             false, true, -1, 0),
        ]
        for variant in matmulVariants {
            let aValues = values(variant.aShape.reduce(1, *)), bValues = values(variant.bShape.reduce(1, *))
            let cValues = values(variant.cShape.reduce(1, *))
            cases.append(ComparisonCase(op: "matmul", variant: variant.name, tolerance: Tolerance.matmul) { backend in
                let c = try backend.tensor(cValues, shape: variant.cShape)
                try backend.matmul(try backend.tensor(aValues, shape: variant.aShape),
                                   try backend.tensor(bValues, shape: variant.bShape), into: c,
                                   transposeA: variant.tA, transposeB: variant.tB, alpha: variant.alpha, beta: variant.beta)
                return [("c", try backend.floats(c))]
            })
        }

        // MARK: Embedding
        var ids = (0..<n).map { _ in Int32.random(in: 0..<Int32(v), using: &random) }
        ids[5] = ids[3]
        ids[30] = ids[3]  // repeated ids accumulate in the backward pass
        let table = values(v * d), gradEmbedding = values(n * d), gradTableStart = values(v * d)
        cases.append(ComparisonCase(op: "embedding", variant: "V 301, repeated ids", tolerance: .exact) { backend in
            let out = try backend.empty([n, d])
            try backend.embedding(ids: try backend.tensor(ids, shape: [n]), table: try backend.tensor(table, shape: [v, d]),
                                  into: out)
            return [("out", try backend.floats(out))]
        })
        cases.append(ComparisonCase(op: "embeddingBackward", variant: "accumulate, repeated ids",
                                    tolerance: Tolerance.elementwise) { backend in
            let gradTable = try backend.tensor(gradTableStart, shape: [v, d])
            try backend.embeddingBackward(ids: try backend.tensor(ids, shape: [n]),
                                          gradOutput: try backend.tensor(gradEmbedding, shape: [n, d]), into: gradTable)
            return [("gradTable", try backend.floats(gradTable))]
        })

        // MARK: RMSNorm
        let x = values(n * d, 2), weight = values(d).map { 1 + 0.2 * $0 }, gradNorm = values(n * d)
        let gradWeightStart = values(d), epsilon: Float = 1e-6
        let inverseRMS = (0..<n).map { row -> Float in
            let slice = x[(row * d)..<((row + 1) * d)]
            let meanSquare = slice.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(d)
            return Float(1 / (meanSquare + Double(epsilon)).squareRoot())
        }
        cases.append(ComparisonCase(op: "rmsNorm", variant: "[37, 72], eps 1e-6", tolerance: Tolerance.layer) { backend in
            let out = try backend.empty([n, d]), rms = try backend.empty([n])
            try backend.rmsNorm(try backend.tensor(x, shape: [n, d]), weight: try backend.tensor(weight, shape: [d]),
                                epsilon: epsilon, into: out, inverseRMS: rms)
            return [("out", try backend.floats(out)), ("inverseRMS", try backend.floats(rms))]
        })
        cases.append(ComparisonCase(op: "rmsNormBackward", variant: "gradWeight accumulates",
                                    tolerance: Tolerance.layer) { backend in
            let gradInput = try backend.empty([n, d]), gradWeight = try backend.tensor(gradWeightStart, shape: [d])
            try backend.rmsNormBackward(try backend.tensor(x, shape: [n, d]), weight: try backend.tensor(weight, shape: [d]),
                                        inverseRMS: try backend.tensor(inverseRMS, shape: [n]),
                                        gradOutput: try backend.tensor(gradNorm, shape: [n, d]),
                                        into: gradInput, gradWeight: gradWeight)
            return [("gradInput", try backend.floats(gradInput)), ("gradWeight", try backend.floats(gradWeight))]
        })

        // MARK: RoPE (positions restart in each packed sequence)
        let positions: [Int32] = (0..<(starts.count - 1)).flatMap { s in (0..<(starts[s + 1] - starts[s])).map { $0 } }
        let inverseFrequencies = (0..<(hd / 2)).map { Float(pow(10_000.0, -2.0 * Double($0) / Double(hd))) }
        let ropeInput = values(n * hq * hd)
        for (name, inverse, scaling, inPlace) in [("forward", false, Float(1), false), ("inverse", true, 1, false),
                                                  ("forward, scaling 1.2, in place", false, 1.2, true)] {
            cases.append(ComparisonCase(op: "rope", variant: name, tolerance: Tolerance.layer) { backend in
                let input = try backend.tensor(ropeInput, shape: [n, hq, hd])
                let out = inPlace ? input : try backend.empty([n, hq, hd])
                try backend.rope(input, positions: try backend.tensor(positions, shape: [n]),
                                 inverseFrequencies: try backend.tensor(inverseFrequencies, shape: [hd / 2]),
                                 attentionScaling: scaling, inverse: inverse, into: out)
                return [("out", try backend.floats(out))]
            })
        }

        // MARK: Attention (3 packed sequences, GQA 6/2)
        let query = values(n * hq * hd), key = values(n * hkv * hd), value = values(n * hkv * hd)
        let gradAttention = values(n * hq * hd), attentionScale = 1 / Float(hd).squareRoot()
        for window in [nil, 5] as [Int?] {
            let name = window.map { "causal, window \($0)" } ?? "causal"
            func forward(_ backend: any Backend) throws -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) {
                let q = try backend.tensor(query, shape: [n, hq, hd])
                let k = try backend.tensor(key, shape: [n, hkv, hd]), v = try backend.tensor(value, shape: [n, hkv, hd])
                let sequenceStarts = try backend.tensor(starts, shape: [starts.count])
                let out = try backend.empty([n, hq, hd]), logSumExp = try backend.empty([n, hq])
                try backend.attention(query: q, key: k, value: v, sequenceStarts: sequenceStarts, slidingWindow: window,
                                      scale: attentionScale, into: out, logSumExp: logSumExp)
                return (q, k, v, sequenceStarts, out, logSumExp)
            }
            cases.append(ComparisonCase(op: "attention", variant: name, tolerance: Tolerance.attention) { backend in
                let (_, _, _, _, out, logSumExp) = try forward(backend)
                return [("out", try backend.floats(out)), ("logSumExp", try backend.floats(logSumExp))]
            })
            // Each backend runs its own forward pass, then the backward pass from its output and log-sum-exp.
            cases.append(ComparisonCase(op: "attentionBackward", variant: name,
                                        tolerance: Tolerance.attentionBackward) { backend in
                let (q, k, v, sequenceStarts, out, logSumExp) = try forward(backend)
                let gradQuery = try backend.empty(q.shape), gradKey = try backend.empty(k.shape)
                let gradValue = try backend.empty(v.shape)
                try backend.attentionBackward(query: q, key: k, value: v, output: out, logSumExp: logSumExp,
                                              gradOutput: try backend.tensor(gradAttention, shape: [n, hq, hd]),
                                              sequenceStarts: sequenceStarts, slidingWindow: window, scale: attentionScale,
                                              into: gradQuery, gradKey: gradKey, gradValue: gradValue)
                return [("gradQuery", try backend.floats(gradQuery)), ("gradKey", try backend.floats(gradKey)),
                        ("gradValue", try backend.floats(gradValue))]
            })
        }

        // MARK: SwiGLU
        let gate = values(n * 100, 6), up = values(n * 100), gradSwiglu = values(n * 100)
        cases.append(ComparisonCase(op: "swiglu", variant: "[37, 100]", tolerance: Tolerance.elementwise) { backend in
            let out = try backend.empty([n, 100])
            try backend.swiglu(gate: try backend.tensor(gate, shape: [n, 100]), up: try backend.tensor(up, shape: [n, 100]),
                               into: out)
            return [("out", try backend.floats(out))]
        })
        cases.append(ComparisonCase(op: "swigluBackward", variant: "[37, 100]", tolerance: Tolerance.elementwise) { backend in
            let gradGate = try backend.empty([n, 100]), gradUp = try backend.empty([n, 100])
            try backend.swigluBackward(gate: try backend.tensor(gate, shape: [n, 100]),
                                       up: try backend.tensor(up, shape: [n, 100]),
                                       gradOutput: try backend.tensor(gradSwiglu, shape: [n, 100]),
                                       into: gradGate, gradUp: gradUp)
            return [("gradGate", try backend.floats(gradGate)), ("gradUp", try backend.floats(gradUp))]
        })

        // MARK: Cross-entropy (V = 301, two ignored rows, one row whose target is its argmax)
        let logits = values(n * v, 4)
        var targets = (0..<n).map { _ in Int32.random(in: 0..<Int32(v), using: &random) }
        targets[2] = -100
        targets[17] = -100
        targets[4] = Int32(logits[(4 * v)..<(5 * v)].indices.max { logits[$0] < logits[$1] }! - 4 * v)
        let scored = Float(targets.filter { $0 >= 0 }.count)
        for gradientScale in [1 / scored, nil] as [Float?] {
            let name = gradientScale == nil ? "no gradient" : "gradient scale 1/\(Int(scored))"
            cases.append(ComparisonCase(op: "crossEntropy", variant: name, tolerance: Tolerance.layer,
                                        outputTolerances: ["gradient": Tolerance.elementwise]) { backend in
                let logitsTensor = try backend.tensor(logits, shape: [n, v])
                let stats = try backend.tensor([0.5, 1, 0], shape: [3]), logProbabilities = try backend.empty([n])
                try backend.crossEntropy(logits: logitsTensor, targets: try backend.tensor(targets, shape: [n]),
                                         gradientScale: gradientScale, stats: stats, logProbabilities: logProbabilities)
                return [("gradient", try backend.floats(logitsTensor)), ("stats", try backend.floats(stats)),
                        ("logProbs", try backend.floats(logProbabilities))]
            })
        }
        let tokenWeights = (0..<n).map { Float($0 % 5) * 0.25 - 0.5 }
        cases.append(ComparisonCase(op: "crossEntropy", variant: "per-row token weights", tolerance: Tolerance.layer,
                                    outputTolerances: ["gradient": Tolerance.elementwise]) { backend in
            let logitsTensor = try backend.tensor(logits, shape: [n, v])
            let stats = try backend.tensor([Float](repeating: 0, count: 3), shape: [3])
            try backend.crossEntropy(logits: logitsTensor, targets: try backend.tensor(targets, shape: [n]),
                                     gradientScale: 1 / scored, tokenWeights: try backend.tensor(tokenWeights, shape: [n]),
                                     stats: stats, logProbabilities: nil)
            return [("gradient", try backend.floats(logitsTensor)), ("stats", try backend.floats(stats))]
        })

        // MARK: Training: dropout (the same mask bit for bit) and AdamW (the same f32 rounding)
        let dropoutInput = values(n * 300, 3)
        for (probability, seed, inPlace) in [(Float(0.1), UInt64(7), true), (0.5, 0xDEAD_BEEF_0123_4567, false),
                                             (0, 3, false), (1, 3, false)] {
            cases.append(ComparisonCase(op: "dropout", variant: "p \(probability), seed \(seed)\(inPlace ? ", in place" : "")",
                                        tolerance: .exact) { backend in
                let x = try backend.tensor(dropoutInput, shape: [n, 300])
                let out = inPlace ? x : try backend.empty([n, 300])
                try backend.dropout(x, probability: probability, seed: seed, into: out)
                return [("out", try backend.floats(out))]
            })
        }
        let (adamParameter, adamGradient) = (values(n * d), values(n * d, 0.1))
        let adamFirst = values(n * d, 0.01), adamSecond = values(n * d, 1e-4).map(abs)
        for (step, weightDecay, beta1) in [(1, 0.0, 0.9), (5, 0.1, 0.9), (3, 0.01, 0.6)] {
            cases.append(ComparisonCase(op: "adamW", variant: "step \(step), wd \(weightDecay), β1 \(beta1)",
                                        tolerance: Tolerance.elementwise) { backend in
                let parameter = try backend.tensor(adamParameter, shape: [n, d])
                let first = try backend.tensor(adamFirst, shape: [n, d]), second = try backend.tensor(adamSecond, shape: [n, d])
                try backend.adamW(parameter: parameter, gradient: try backend.tensor(adamGradient, shape: [n, d]),
                                  firstMoment: first, secondMoment: second, learningRate: 1e-3, beta1: beta1, beta2: 0.95,
                                  epsilon: 1e-8, weightDecay: weightDecay, step: step)
                return [("parameter", try backend.floats(parameter)), ("firstMoment", try backend.floats(first)),
                        ("secondMoment", try backend.floats(second))]
            })
        }
        return cases
    }
}
