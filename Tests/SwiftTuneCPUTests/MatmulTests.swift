import Testing
@testable import SwiftTuneCPU
import SwiftTuneTensor

/// `matmul` through BLAS (when one is installed) and through the portable GEMM, both against a naive f64
/// triple loop, for every transpose combination, batching rule, alpha/beta, and sizes that cross the
/// GEMM block sizes (256) in k and n.
@Suite("Matmul: BLAS and portable GEMM vs a naive loop")
struct MatmulTests {
    struct Case: Sendable, CustomStringConvertible {
        var m: Int, n: Int, k: Int
        var batch: [Int] = []
        var sharedB = false
        var transposeA = false, transposeB = false
        var alpha = 1.0, beta = 0.0

        var batchCount: Int { batch.reduce(1, *) }
        var aShape: [Int] { batch + (transposeA ? [k, m] : [m, k]) }
        var bShape: [Int] { (sharedB ? [] : batch) + (transposeB ? [n, k] : [k, n]) }
        var cShape: [Int] { batch + [m, n] }

        var description: String {
            "\(m)×\(n)×\(k) batch \(batch)\(sharedB ? " shared b" : "") tA \(transposeA) tB \(transposeB) " +
                "α \(alpha) β \(beta)"
        }

        /// `alpha · op(a) · op(b) + beta · c`, one batch item at a time, by definition.
        func naive(a: [Double], b: [Double], c: [Double]) -> [Double] {
            var out = c
            for item in 0..<batchCount {
                let (aBase, bBase, cBase) = (item * m * k, sharedB ? 0 : item * k * n, item * m * n)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0
                        for p in 0..<k {
                            let x = transposeA ? a[aBase + p * m + i] : a[aBase + i * k + p]
                            let y = transposeB ? b[bBase + j * k + p] : b[bBase + p * n + j]
                            sum += x * y
                        }
                        out[cBase + i * n + j] = alpha * sum + beta * c[cBase + i * n + j]
                    }
                }
            }
            return out
        }
    }

    static let cases: [Case] = {
        var cases: [Case] = []
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            cases.append(Case(m: 37, n: 19, k: 23, transposeA: transposeA, transposeB: transposeB))
            cases.append(Case(m: 37, n: 19, k: 23, batch: [3], transposeA: transposeA, transposeB: transposeB,
                              alpha: 0.5, beta: 0.25))
            cases.append(Case(m: 5, n: 19, k: 23, batch: [2, 3], sharedB: true, transposeA: transposeA,
                              transposeB: transposeB, alpha: -1.5, beta: 1))
        }
        cases.append(Case(m: 130, n: 257, k: 65, transposeB: true))
        cases.append(Case(m: 130, n: 257, k: 65, alpha: 2, beta: -0.5))
        cases.append(Case(m: 21, n: 33, k: 300, batch: [2], transposeA: true, beta: 1))
        cases.append(Case(m: 1, n: 7, k: 0, beta: 0.5))
        // Few rows: the portable path splits columns across threads instead of rows.
        cases.append(Case(m: 3, n: 300, k: 270, batch: [2], transposeB: true, alpha: 0.5, beta: 1))
        cases.append(Case(m: 1, n: 520, k: 33, transposeA: true, beta: 0.5))
        // One row (decoding): BLAS takes sgemv, in both layouts of B, batched, with and without A transposed.
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            cases.append(Case(m: 1, n: 300, k: 77, batch: [2], transposeA: transposeA, transposeB: transposeB,
                              alpha: 0.5, beta: 0.25))
            cases.append(Case(m: 1, n: 33, k: 530, transposeA: transposeA, transposeB: transposeB))
        }
        return cases
    }()

    static let blasAvailable = BLAS.load() != nil

    @Test(arguments: cases)
    func portableAndBLASMatchNaiveLoop(_ problem: Case) throws {
        var random = SeededGenerator(seed: 51)
        let a = random.values(problem.aShape.reduce(1, *)), b = random.values(problem.bShape.reduce(1, *))
        let c = random.values(problem.cShape.reduce(1, *))
        let expected = problem.naive(a: a, b: b, c: c)
        for useBLAS in Self.blasAvailable ? [false, true] : [false] {
            let backend = protocolBackend(useBLAS: useBLAS, threadCount: 3)
            let out = try backend.f32(c, problem.cShape)
            try backend.matmul(try backend.f32(a, problem.aShape), try backend.f32(b, problem.bShape), into: out,
                               transposeA: problem.transposeA, transposeB: problem.transposeB,
                               alpha: Float(problem.alpha), beta: Float(problem.beta))
            expectClose(try backend.doubles(out), expected, tol: 1e-5, "\(useBLAS ? "BLAS" : "portable") \(problem)")
        }
    }

    /// The generic kernel instantiated with `Double` is exact to rounding against the naive loop.
    @Test func f64KernelMatchesNaiveLoop() {
        var random = SeededGenerator(seed: 52)
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            let problem = Case(m: 13, n: 270, k: 260, transposeA: transposeA, transposeB: transposeB, alpha: 0.75, beta: 2)
            let a = random.values(problem.m * problem.k), b = random.values(problem.k * problem.n)
            let c = random.values(problem.m * problem.n)
            let shape = GEMMShape(m: problem.m, n: problem.n, k: problem.k, transposeA: transposeA, transposeB: transposeB)
            expectClose(Reference.gemm(shape, alpha: 0.75, a: a, b: b, beta: 2, c: c), problem.naive(a: a, b: b, c: c),
                        tol: 1e-13, "f64 gemm \(problem)")
        }
    }

    /// `beta = 0` overwrites: whatever `c` held (here NaN) must not leak into the result, as in BLAS.
    @Test(arguments: [false, true])
    func betaZeroIgnoresGarbage(useBLAS: Bool) throws {
        guard !useBLAS || Self.blasAvailable else { return }
        let backend = protocolBackend(useBLAS: useBLAS)
        let a = try backend.tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        let b = try backend.tensor([1, 0, 0, 1, 1, 1] as [Float], shape: [3, 2])
        let c = try backend.empty([2, 2])
        try backend.fill(c, with: .nan)
        try backend.matmul(a, b, into: c, transposeA: false, transposeB: false, alpha: 1, beta: 0)
        #expect(try backend.floats(c) == [4, 5, 10, 11])
        let row = try backend.empty([1, 2])  // one row: the sgemv path
        try backend.fill(row, with: .nan)
        try backend.matmul(try backend.tensor([1, 2, 3] as [Float], shape: [1, 3]), b, into: row,
                           transposeA: false, transposeB: false, alpha: 1, beta: 0)
        #expect(try backend.floats(row) == [4, 5])
    }
}
