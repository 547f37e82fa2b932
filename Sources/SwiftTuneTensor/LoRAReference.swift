/// The LoRA side-path ops (`Backend.loraDown`, `loraDownGradient`, `loraInputGradient`) composed from `dropout`,
/// `matmul` and `add`: the default of every backend and the reference the fused CUDA kernels are compared with.
/// Each materialises `dropout(x)` (or `dropout(du·A)`) once in x's storage dtype.
public enum LoRAReference {
    /// `u = dropout(x)·Aᵀ`.
    public static func down(_ x: Tensor, a: Tensor, probability: Float, seed: UInt64, into u: Tensor) throws {
        try OpCheck.loraDown(x, a: a, probability: probability, u: u)
        let backend = x.backend
        let dropped = try backend.empty(x.shape, dtype: x.dtype)
        try backend.dropout(x, probability: probability, seed: seed, into: dropped)
        try backend.matmul(dropped, a, into: u, transposeA: false, transposeB: true, alpha: 1, beta: 0)
    }

    /// `dA += duᵀ · dropout(x)`.
    public static func downGradient(_ du: Tensor, x: Tensor, probability: Float, seed: UInt64,
                                    accumulateInto dA: Tensor) throws {
        try OpCheck.loraDownGradient(du, x: x, probability: probability, dA: dA)
        let backend = x.backend
        let dropped = try backend.empty(x.shape, dtype: x.dtype)
        try backend.dropout(x, probability: probability, seed: seed, into: dropped)
        try backend.matmul(du, dropped, into: dA, transposeA: true, transposeB: false, alpha: 1, beta: 1)
    }

    /// `dx += dropout(du · A)`.
    public static func inputGradient(_ du: Tensor, a: Tensor, probability: Float, seed: UInt64,
                                     accumulateInto dx: Tensor) throws {
        try OpCheck.loraInputGradient(du, a: a, probability: probability, dx: dx)
        let backend = dx.backend
        let dDropped = try backend.empty(dx.shape, dtype: dx.dtype)
        try backend.matmul(du, a, into: dDropped, transposeA: false, transposeB: false, alpha: 1, beta: 0)
        try backend.dropout(dDropped, probability: probability, seed: seed, into: dDropped)
        try backend.add(dx, dDropped, scale: 1, into: dx)
    }
}
