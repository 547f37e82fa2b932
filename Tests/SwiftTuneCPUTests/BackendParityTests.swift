import Testing
@testable import SwiftTuneCPU
import SwiftTuneTensor

/// The f32 backend, called through `any Backend` and split over threads, against the f64 kernels on the same
/// (f32-representable) inputs. Sizes exceed the threading grains so every op really runs in several chunks.
@Suite("f32 backend vs f64 kernels")
struct BackendParityTests {
    static let tolerance = 1e-5

    @Test func addScaleAndBias() throws {
        let backend = protocolBackend(threadCount: 3)
        var random = SeededGenerator(seed: 41)
        let (rows, columns) = (301, 129)
        let a = random.values(rows * columns), b = random.values(rows * columns), bias = random.values(columns)
        let ta = try backend.f32(a, [rows, columns]), tb = try backend.f32(b, [rows, columns])
        let out = try backend.empty([rows, columns])
        try backend.add(ta, tb, scale: -0.75, into: out)
        expectClose(try backend.doubles(out), zip(a, b).map { $0 - 0.75 * $1 }, tol: Self.tolerance, "add")
        try backend.add(ta, tb, scale: 2, into: ta)  // out aliases a
        expectClose(try backend.doubles(ta), zip(a, b).map { $0 + 2 * $1 }, tol: Self.tolerance, "add in place")
        try backend.scale(tb, by: 3, into: tb)
        expectClose(try backend.doubles(tb), b.map { 3 * $0 }, tol: Self.tolerance, "scale in place")
        let x = try backend.f32(a, [rows, columns])
        try backend.addBias(x, bias: try backend.f32(bias, [columns]), into: out)
        expectClose(try backend.doubles(out), a.indices.map { a[$0] + bias[$0 % columns] }, tol: Self.tolerance, "addBias")
    }

    @Test func sumRowsAndSumOfSquares() throws {
        let backend = protocolBackend(threadCount: 3)
        var random = SeededGenerator(seed: 42)
        let (rows, columns) = (53, 200)
        let x = random.values(rows * columns), initial = random.values(columns)
        let tx = try backend.f32(x, [rows, columns]), out = try backend.f32(initial, [columns])
        let columnSums = (0..<columns).map { c in (0..<rows).reduce(0.0) { $0 + x[$1 * columns + c] } }
        try backend.sumRows(tx, into: out, accumulate: true)
        expectClose(try backend.doubles(out), zip(initial, columnSums).map(+), tol: Self.tolerance, "sumRows accumulate")
        try backend.sumRows(tx, into: out, accumulate: false)
        expectClose(try backend.doubles(out), columnSums, tol: Self.tolerance, "sumRows overwrite")

        let big = random.values(40_000)
        let total = try backend.f32([1.5], [1])
        let squares = big.reduce(0) { $0 + $1 * $1 }
        try backend.sumOfSquares(try backend.f32(big, [40_000]), into: total, accumulate: true)
        expectClose(try backend.doubles(total), [1.5 + squares], tol: Self.tolerance, "sumOfSquares accumulate")
        try backend.sumOfSquares(try backend.f32(big, [200, 200]), into: total, accumulate: false)
        expectClose(try backend.doubles(total), [squares], tol: Self.tolerance, "sumOfSquares overwrite")
    }

    @Test func swigluForwardAndBackward() throws {
        let backend = protocolBackend(threadCount: 3)
        var random = SeededGenerator(seed: 43)
        let count = 40_001
        let gate = random.values(count, in: -6...6), up = random.values(count), grad = random.values(count)
        let tg = try backend.f32(gate, [count]), tu = try backend.f32(up, [count])
        let out = try backend.empty([count])
        try backend.swiglu(gate: tg, up: tu, into: out)
        expectClose(try backend.doubles(out), Reference.swiglu(gate: gate, up: up), tol: Self.tolerance, "swiglu")
        var gradGate = zeros(count), gradUp = zeros(count)
        CPUKernels.swigluBackward(gate: gate, up: up, gradOutput: grad, into: &gradGate, gradUp: &gradUp, range: 0..<count)
        let dg = try backend.empty([count]), du = try backend.empty([count])
        try backend.swigluBackward(gate: tg, up: tu, gradOutput: try backend.f32(grad, [count]), into: dg, gradUp: du)
        expectClose(try backend.doubles(dg), gradGate, tol: Self.tolerance, "swiglu dgate")
        expectClose(try backend.doubles(du), gradUp, tol: Self.tolerance, "swiglu dup")
    }

    @Test func embeddingForwardAndBackward() throws {
        let backend = protocolBackend(threadCount: 3)
        var random = SeededGenerator(seed: 44)
        let (vocabulary, width, tokens) = (17, 200, 300)
        let table = random.values(vocabulary * width), ids = random.integers(tokens, in: 0..<vocabulary)
        let grad = random.values(tokens * width), initial = random.values(vocabulary * width)
        let tids = try backend.i32(ids, [tokens]), out = try backend.empty([tokens, width])
        try backend.embedding(ids: tids, table: try backend.f32(table, [vocabulary, width]), into: out)
        expectClose(try backend.doubles(out), Reference.embedding(ids: ids, table: table, width: width),
                    tol: 0, "embedding (a gather is exact)")
        var expected = initial
        CPUKernels.embeddingBackward(ids: ids.map { Int32($0) }, gradOutput: grad, tokens: tokens, width: width,
                                     into: &expected, columns: 0..<width)
        let gradTable = try backend.f32(initial, [vocabulary, width])
        try backend.embeddingBackward(ids: tids, gradOutput: try backend.f32(grad, [tokens, width]), into: gradTable)
        expectClose(try backend.doubles(gradTable), expected, tol: Self.tolerance, "embeddingBackward")
    }

    @Test func rmsNormForwardAndBackward() throws {
        let backend = protocolBackend(threadCount: 3)
        var random = SeededGenerator(seed: 45)
        let (rows, width, epsilon) = (301, 130, 1e-5)
        let x = random.values(rows * width, in: -2...2), weight = random.values(width, in: 0.5...1.5)
        let grad = random.values(rows * width), initial = random.values(width)
        let forward = Reference.rmsNorm(x, weight: weight, epsilon: epsilon)
        let tx = try backend.f32(x, [rows, width]), tw = try backend.f32(weight, [width])
        let out = try backend.empty([rows, width]), inverse = try backend.empty([rows])
        try backend.rmsNorm(tx, weight: tw, epsilon: Float(epsilon), into: out, inverseRMS: inverse)
        expectClose(try backend.doubles(out), forward.out, tol: Self.tolerance, "rmsNorm out")
        expectClose(try backend.doubles(inverse), forward.inverseRMS, tol: Self.tolerance, "rmsNorm inverseRMS")

        let inverseRMS = try backend.doubles(inverse)  // both sides use the same f32 inverse RMS
        var gradInput = zeros(rows * width), gradWeight = initial
        CPUKernels.rmsNormBackwardInput(x, weight: weight, inverseRMS: inverseRMS, gradOutput: grad, width: width,
                                        into: &gradInput, rows: 0..<rows)
        CPUKernels.rmsNormBackwardWeight(x, inverseRMS: inverseRMS, gradOutput: grad, rows: rows, width: width,
                                         into: &gradWeight, columns: 0..<width)
        // gradInput aliases gradOutput: the op must read the row before overwriting it.
        let tgrad = try backend.f32(grad, [rows, width]), tgw = try backend.f32(initial, [width])
        try backend.rmsNormBackward(tx, weight: tw, inverseRMS: inverse, gradOutput: tgrad, into: tgrad, gradWeight: tgw)
        expectClose(try backend.doubles(tgrad), gradInput, tol: Self.tolerance, "rmsNorm dx (in place)")
        expectClose(try backend.doubles(tgw), gradWeight, tol: Self.tolerance, "rmsNorm dweight")
        // In place forward (out = x), without inverseRMS.
        try backend.rmsNorm(tx, weight: tw, epsilon: Float(epsilon), into: tx, inverseRMS: nil)
        expectClose(try backend.doubles(tx), forward.out, tol: Self.tolerance, "rmsNorm in place")
    }

    @Test(arguments: [false, true])
    func rope(inverse: Bool) throws {
        let backend = protocolBackend(threadCount: 3)
        var random = SeededGenerator(seed: 46)
        let (tokens, heads, headDim, scaling) = (301, 4, 32, 1.125)
        let x = random.values(tokens * heads * headDim), positions = random.integers(tokens, in: 0..<64)
        let frequencies = RoPETestData.inverseFrequencies(headDim: headDim)
        let expected = Reference.rope(x, positions: positions, inverseFrequencies: frequencies, heads: heads,
                                      attentionScaling: scaling, inverse: inverse)
        let tx = try backend.f32(x, [tokens, heads, headDim])
        try backend.rope(tx, positions: try backend.i32(positions, [tokens]),
                         inverseFrequencies: try backend.f32(frequencies, [headDim / 2]),
                         attentionScaling: Float(scaling), inverse: inverse, into: tx)
        // Positions stay small: the angle is a product in f32 (as in HF), whose rounding grows with the position.
        expectClose(try backend.doubles(tx), expected, tol: Self.tolerance, "rope inverse=\(inverse) (in place)")
    }

    @Test func crossEntropyStatsAndGradient() throws {
        let backend = protocolBackend(threadCount: 3)
        var random = SeededGenerator(seed: 47)
        let (rows, vocabulary, gradientScale) = (150, 1000, 0.01)
        let logits = random.values(rows * vocabulary, in: -8...8)
        var targets = random.integers(rows, in: 0..<vocabulary)
        for row in stride(from: 0, to: rows, by: 7) { targets[row] = -100 }
        let expected = Reference.crossEntropy(logits: logits, targets: targets, gradientScale: gradientScale)
        let tlogits = try backend.f32(logits, [rows, vocabulary])
        let stats = try backend.f32([10, 20, 30], [3]), logProbabilities = try backend.empty([rows])
        try backend.crossEntropy(logits: tlogits, targets: try backend.i32(targets, [rows]),
                                 gradientScale: Float(gradientScale), stats: stats, logProbabilities: logProbabilities)
        let totals = try backend.doubles(stats)
        expectClose([totals[0]], [10 + expected.totals.lossSum], tol: Self.tolerance, "stats loss sum")
        #expect(totals[1] == 20 + Double(expected.totals.count))
        #expect(totals[2] == 30 + Double(expected.totals.correct))
        expectClose(try backend.doubles(logProbabilities), expected.logProbabilities, tol: Self.tolerance, "log p")
        expectClose(try backend.doubles(tlogits), expected.gradient, tol: Self.tolerance, "gradient in place")
    }

    /// Every op that reduces splits by fixed blocks or owned columns, so thread counts give identical bits.
    @Test func reductionsDoNotDependOnThreadCount() throws {
        var random = SeededGenerator(seed: 48)
        let (rows, width) = (300, 200)
        let x = random.values(rows * width), grad = random.values(rows * width), ids = random.integers(rows, in: 0..<7)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            let backend = protocolBackend(threadCount: threads)
            let tx = try backend.f32(x, [rows, width]), tgrad = try backend.f32(grad, [rows, width])
            let sums = try backend.zeros([width]), squares = try backend.zeros([1]), table = try backend.zeros([7, width])
            let weight = try backend.f32(Array(x.prefix(width)), [width]), inverse = try backend.empty([rows])
            let normed = try backend.empty([rows, width]), gradWeight = try backend.zeros([width])
            try backend.sumRows(tx, into: sums, accumulate: false)
            try backend.sumOfSquares(tx, into: squares, accumulate: false)
            try backend.embeddingBackward(ids: try backend.i32(ids, [rows]), gradOutput: tgrad, into: table)
            try backend.rmsNorm(tx, weight: weight, epsilon: 1e-5, into: normed, inverseRMS: inverse)
            try backend.rmsNormBackward(tx, weight: weight, inverseRMS: inverse, gradOutput: tgrad, into: normed,
                                        gradWeight: gradWeight)
            results.append(try [sums, squares, table, normed, gradWeight].flatMap { try backend.floats($0) })
        }
        #expect(results[0] == results[1])
        #expect(results[0] == results[2])
    }
}
