import SwiftTuneTensor

/// Batched matrix products through BLAS `sgemm`, or the portable `CPUKernels.gemm` when no BLAS is loaded; bf16
/// operands go through `F32Staging`, so a bf16 product into an f32 c accumulates in f32.
extension CPUBackend {
    public func matmul(_ a: Tensor, _ b: Tensor, into c: Tensor,
                       transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float) throws {
        let problem = try matmulProblem(a, b, c, transposeA: transposeA, transposeB: transposeB)
        try staged { s in
            // bf16 operands are widened; an f32 c (a bf16 product's accumulator) is used in place.
            let pa = try s.input(a, "matmul a"), pb = try s.input(b, "matmul b")
            let pc = beta == 0 ? try s.output(c, "matmul c") : try s.update(c, "matmul c")
            gemm(problem, transposeA: transposeA, transposeB: transposeB, alpha: alpha, a: pa, b: pb, beta: beta, c: pc)
        }
    }

    /// The f32 product of a validated problem.
    private func gemm(_ problem: MatmulProblem, transposeA: Bool, transposeB: Bool, alpha: Float,
                      a pa: UnsafeMutablePointer<Float>, b pb: UnsafeMutablePointer<Float>, beta: Float,
                      c pc: UnsafeMutablePointer<Float>) {
        let shape = problem.shape
        let (aStride, bStride, cStride) = (shape.m * shape.k, problem.sharedB ? 0 : shape.k * shape.n, shape.m * shape.n)
        if let blas, shape.m > 0, shape.n > 0, shape.k > 0, Self.fitsInt32(shape) {
            // OpenBLAS threads each product itself.
            for item in 0..<problem.batch {
                blas.sgemm(transposeA: transposeA, transposeB: transposeB, m: shape.m, n: shape.n, k: shape.k,
                           alpha: alpha, a: pa + item * aStride, lda: shape.lda, b: pb + item * bStride,
                           ldb: shape.ldb, beta: beta, c: pc + item * cStride, ldc: shape.n)
            }
            return
        }
        let (sa, sb, sc) = (SendablePointer(pa), SendablePointer(pb), SendablePointer(pc))
        let m = shape.m
        if problem.batch * m < 16 * threadCount {
            // Few rows (e.g. decoding one token): threads take column strips instead, each the whole batch.
            parallelFor(shape.n, grain: 128) { columns in
                for item in 0..<problem.batch {
                    CPUKernels.gemm(shape, alpha: alpha, a: sa.pointer + item * aStride, b: sb.pointer + item * bStride,
                                    beta: beta, c: sc.pointer + item * cStride, rows: 0..<m, columns: columns)
                }
            }
            return
        }
        // Threads take contiguous runs of (batch item, row) pairs.
        parallelFor(problem.batch * m, grain: 16) { range in
            var flat = range.lowerBound
            while flat < range.upperBound {
                let item = flat / m, first = flat % m
                let last = min(m, first + (range.upperBound - flat))
                CPUKernels.gemm(shape, alpha: alpha, a: sa.pointer + item * aStride, b: sb.pointer + item * bStride,
                                beta: beta, c: sc.pointer + item * cStride, rows: first..<last)
                flat += last - first
            }
        }
    }

    /// The validated sizes of a `matmul` call.
    private struct MatmulProblem {
        var shape: GEMMShape
        /// Number of products.
        var batch: Int
        /// b is one rank-2 matrix used by every product.
        var sharedB: Bool
    }

    /// The shared check's sizes as this backend's GEMM problem.
    private func matmulProblem(_ a: Tensor, _ b: Tensor, _ c: Tensor,
                               transposeA: Bool, transposeB: Bool) throws -> MatmulProblem {
        let size = try OpCheck.matmul(a, b, c: c, transposeA: transposeA, transposeB: transposeB)
        if size.sharedB && !transposeA {
            // A batch of row-major [m, k] blocks times one b is a single [batch · m, k] product.
            let shape = GEMMShape(m: size.batch * size.m, n: size.n, k: size.k, transposeA: false, transposeB: transposeB)
            return MatmulProblem(shape: shape, batch: 1, sharedB: true)
        }
        let shape = GEMMShape(m: size.m, n: size.n, k: size.k, transposeA: transposeA, transposeB: transposeB)
        return MatmulProblem(shape: shape, batch: size.batch, sharedB: size.sharedB)
    }

    /// CBLAS takes 32-bit sizes.
    private static func fitsInt32(_ shape: GEMMShape) -> Bool {
        [shape.m, shape.n, shape.k].allSatisfy { $0 <= Int(Int32.max) }
    }
}
