import SwiftTuneTensor

/// Matrix products through cuBLASLt in plain f32 (`CUBLAS_COMPUTE_32F`, no TF32), so results match the CPU backend
/// to f32 rounding.
extension CUDABackend {
    public func matmul(_ a: Tensor, _ b: Tensor, into c: Tensor,
                       transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float) throws {
        let op = "matmul"
        try Validate.f32([(a, "a"), (b, "b"), (c, "c")], op)
        for (tensor, role) in [(a, "a"), (b, "b"), (c, "c")] where tensor.rank < 2 {
            throw TensorError.shapeMismatch(op: "\(op)(\(role))", expected: "rank ≥ 2", got: tensor.shape)
        }
        let m = transposeA ? a.size(-1) : a.size(-2)
        let k = transposeA ? a.size(-2) : a.size(-1)
        let kB = transposeB ? b.size(-1) : b.size(-2)
        let n = transposeB ? b.size(-2) : b.size(-1)
        guard kB == k else {
            throw TensorError.shapeMismatch(op: "\(op)(b)", expected: "\(transposeB ? "[..., N, \(k)]" : "[..., \(k), N]")",
                                            got: b.shape)
        }
        guard c.size(-2) == m, c.size(-1) == n else {
            throw TensorError.shapeMismatch(op: "\(op)(c)", expected: "[..., \(m), \(n)]", got: c.shape)
        }
        let batch = a.shape.dropLast(2).reduce(1, *)
        guard c.shape.dropLast(2).reduce(1, *) == batch else {
            throw TensorError.shapeMismatch(op: "\(op)(c)", expected: "\(batch) batch items like a \(a.shape)", got: c.shape)
        }
        let sharedB = b.rank == 2
        guard sharedB || b.shape.dropLast(2).reduce(1, *) == batch else {
            throw TensorError.shapeMismatch(op: "\(op)(b)", expected: "rank 2 or \(batch) batch items like a \(a.shape)",
                                            got: b.shape)
        }
        try Validate.fitsInt32([m, n, k, batch], op, a.shape)
        guard m > 0, n > 0, batch > 0 else { return }
        try context.makeCurrent()
        guard k > 0 else {
            // An empty sum: c = beta · c (and exactly 0 when beta is 0, even where c held NaN).
            if beta == 0 { return try fill(c, with: 0) }
            return try scale(c, by: beta, into: c)
        }
        let (addressA, addressB, addressC) = (try address(a, op), try address(b, op), try address(c, op))
        // With b shared and a not transposed, the batch items of a and c are consecutive rows: one [batch·M, K] ×
        // [K, N] product. Otherwise a strided batch, with stride 0 for a shared b.
        let folded = sharedB && !transposeA && batch > 1
        try Validate.fitsInt32([batch * m], op, a.shape)
        try withBLAS { blas in
            try blas.matmul(a: addressA, b: addressB, c: addressC, m: folded ? batch * m : m, n: n, k: k,
                            batch: folded ? 1 : batch, transposeA: transposeA, transposeB: transposeB,
                            strideA: m * k, strideB: sharedB ? 0 : k * n, strideC: m * n, alpha: alpha, beta: beta)
        }
    }
}
