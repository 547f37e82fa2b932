import SwiftTuneTensor

/// Matrix products through cuBLASLt in plain f32 (`CUBLAS_COMPUTE_32F`, no TF32), so results match the CPU backend
/// to f32 rounding. The shapes are checked by the shared `OpCheck.matmul`.
extension CUDABackend {
    public func matmul(_ a: Tensor, _ b: Tensor, into c: Tensor,
                       transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float) throws {
        let op = "matmul"
        let size = try OpCheck.matmul(a, b, c: c, transposeA: transposeA, transposeB: transposeB)
        let (m, n, k, batch) = (size.m, size.n, size.k, size.batch)
        guard a.dtype == .f32, c.dtype == .f32 else {
            throw TensorError.unsupported(op: "\(op) of \(a.dtype) into \(c.dtype)", backend: name,
                                          hint: "the cuBLASLt products are f32 so far")
        }
        try KernelLimits.fitsInt32([m, n, k, batch], op, a.shape)
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
        let folded = size.foldsBatch(transposeA: transposeA)
        try KernelLimits.fitsInt32([batch * m], op, a.shape)
        try blas.matmul(a: addressA, b: addressB, c: addressC, m: folded ? batch * m : m, n: n, k: k,
                        batch: folded ? 1 : batch, transposeA: transposeA, transposeB: transposeB,
                        strideA: m * k, strideB: size.sharedB ? 0 : k * n, strideC: m * n, alpha: alpha, beta: beta)
    }
}
