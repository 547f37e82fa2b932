/// The matrix product (`Backend.matmul`).
extension OpCheck {
    /// The sizes of one `matmul` call: `batch` products of `[m, k]` by `[k, n]` (after the transposes).
    public struct MatmulShape: Sendable, Equatable {
        public var m: Int
        public var n: Int
        public var k: Int
        /// Number of products: the product of a's leading dimensions (1 for rank 2).
        public var batch: Int
        /// b is one rank-2 matrix used by every product.
        public var sharedB: Bool

        /// With b shared and a not transposed, the batch items of a and c are consecutive rows, so the whole call
        /// is one `[batch · m, k] × [k, n]` product.
        public func foldsBatch(transposeA: Bool) -> Bool { sharedB && !transposeA && batch > 1 }
    }

    /// `matmul`: a `[..., M, K]` (`[..., K, M]` if transposeA), b `[..., K, N]` (`[..., N, K]` if transposeB),
    /// c `[..., M, N]`, a and b in one storage dtype and c f32 or that dtype; a and c have the same batch count, b that count or rank 2 (shared).
    public static func matmul(_ a: Tensor, _ b: Tensor, c: Tensor, transposeA: Bool, transposeB: Bool) throws
        -> MatmulShape {
        let op = "matmul"
        try accumulator(c, storage: try storage(op, (a, "a"), (b, "b")), op, "c")
        for (tensor, argument) in [(a, "a"), (b, "b"), (c, "c")] where tensor.rank < 2 {
            throw TensorError.shapeMismatch(op: "\(op) \(argument)", expected: "rank ≥ 2 [..., rows, columns]",
                                            got: tensor.shape)
        }
        let (m, k) = transposeA ? (a.size(-1), a.size(-2)) : (a.size(-2), a.size(-1))
        let (bk, n) = transposeB ? (b.size(-1), b.size(-2)) : (b.size(-2), b.size(-1))
        guard bk == k else {
            let expected = transposeB ? "[..., N, \(k)] (transposeB)" : "[..., \(k), N]"
            throw TensorError.shapeMismatch(op: "\(op) b", expected: "\(expected) to match a \(a.shape)", got: b.shape)
        }
        let batch = a.shape.dropLast(2).reduce(1, *)
        guard c.size(-2) == m, c.size(-1) == n, c.shape.dropLast(2).reduce(1, *) == batch else {
            throw TensorError.shapeMismatch(
                op: "\(op) c", expected: "\(Array(a.shape.dropLast(2)) + [m, n]) (batch \(batch))", got: c.shape)
        }
        let sharedB = b.rank == 2
        guard sharedB || b.shape.dropLast(2).reduce(1, *) == batch else {
            throw TensorError.shapeMismatch(
                op: "\(op) b", expected: "rank 2 (shared) or a batch of \(batch) like a \(a.shape)", got: b.shape)
        }
        return MatmulShape(m: m, n: n, k: k, batch: batch, sharedB: sharedB)
    }
}
