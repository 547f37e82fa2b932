import SwiftTuneTensor

/// Matrix products through cuBLASLt, always with f32 compute (`CUBLAS_COMPUTE_32F`, never TF32) and f32 alpha, beta:
/// f32 a, b into f32 c (results match the CPU backend to f32 rounding), or bf16 a, b into bf16 c or f32 c (bf16
/// products are exact in f32; beta = 1 into an f32 c is how bf16 activations add into f32 master gradients). The
/// shapes and dtypes are checked by the shared `OpCheck.matmul`.
extension CUDABackend {
    public func matmul(_ a: Tensor, _ b: Tensor, into c: Tensor,
                       transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float) throws {
        let op = "matmul"
        let size = try OpCheck.matmul(a, b, c: c, transposeA: transposeA, transposeB: transposeB)
        let (m, n, k, batch) = (size.m, size.n, size.k, size.batch)
        let (inputType, outputType) = (try Self.blasType(a.dtype, op), try Self.blasType(c.dtype, op))
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
        let product = {
            try self.blas.matmul(a: addressA, b: addressB, c: addressC, m: folded ? batch * m : m, n: n, k: k,
                                 batch: folded ? 1 : batch, transposeA: transposeA, transposeB: transposeB,
                                 strideA: m * k, strideB: size.sharedB ? 0 : k * n, strideC: m * n, alpha: alpha,
                                 beta: beta, inputType: inputType, outputType: outputType)
        }
        guard let profiler else { return try product() }
        try profiler.measure("gemm \(a.dtype)→\(c.dtype) \(transposeA ? "T" : "N")\(transposeB ? "T" : "N") "
                             + "\(folded ? batch * m : m)×\(n)×\(k)" + (folded || batch == 1 ? "" : " ×\(batch)")
                             + (beta != 0 ? " β" : "")) { try product() }
    }

    /// cuBLASLt's data type for a matrix stored in `dtype` (what `OpCheck.storageDTypes` allows).
    static func blasType(_ dtype: DType, _ op: String) throws -> CuBLASLt.DataType {
        switch dtype {
        case .f32: .f32
        case .bf16: .bf16
        default:
            throw TensorError.unsupported(op: "\(op) of \(dtype)", backend: "cuda", hint: "use f32 or bf16 matrices")
        }
    }
}
