/// What one cuBLASLt matrix product needs besides its pointers: the operation descriptor, the three matrix layouts,
/// the preference and the algorithm the heuristic picked. Made once per `Key` by `CuBLASLt` and reused, instead of
/// being created and destroyed around every call.
struct MatmulPlan {
    /// Plans kept at most; the oldest goes first beyond this.
    static let capacity = 512

    /// Everything the descriptors and the algorithm choice depend on.
    struct Key: Hashable, Sendable {
        var m, n, k, batch: Int
        var transposeA, transposeB: Bool
        /// Batch strides in elements (0 for a shared b).
        var strideA, strideB, strideC: Int
        /// The data type of a and b, and of c.
        var inputType, outputType: CuBLASLt.DataType
        /// The largest power of two (at most 256) dividing the address of cuBLASLt's A (our b), B (our a) and C.
        var alignments: [UInt32]
    }

    var operation: CuBLASLt.Descriptor?
    /// cuBLASLt's A (our b), B (our a) and C (also D).
    var layoutA: CuBLASLt.Descriptor?
    var layoutB: CuBLASLt.Descriptor?
    var layoutC: CuBLASLt.Descriptor?
    var preference: CuBLASLt.Descriptor?
    /// One `cublasLtMatmulHeuristicResult_t`; its first member, the algorithm, is what `cublasLtMatmul` reads.
    let heuristic = UnsafeMutableRawPointer.allocate(byteCount: CuBLASLt.heuristicResultBytes, alignment: 16)
}
