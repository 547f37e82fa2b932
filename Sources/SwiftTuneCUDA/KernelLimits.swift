import SwiftTuneTensor

/// What only these kernels limit, checked on the host after the shared `OpCheck`: sizes passed as `int`, the largest
/// head dimension the attention kernels hold in shared memory, and grid dimensions.
enum KernelLimits {
    /// Sizes passed to kernels as `int` must fit in 32 bits.
    static func fitsInt32(_ values: [Int], _ op: String, _ shape: [Int]) throws {
        guard values.allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw TensorError.shapeMismatch(op: op, expected: "dimensions below 2^31", got: shape)
        }
    }

    /// The attention kernels keep a head (and one score per thread) in shared memory and use one grid row per query
    /// head: `1 ≤ headDim ≤ MAX_HEAD_DIM` and at most 65535 heads.
    static func attentionHeads(headDim: Int, queryHeads: Int, _ op: String, query: Tensor) throws {
        guard headDim >= 1, headDim <= KernelSource.maximumHeadDimension else {
            throw TensorError.shapeMismatch(op: "\(op) query",
                                            expected: "a head dimension in 1...\(KernelSource.maximumHeadDimension)",
                                            got: query.shape)
        }
        guard queryHeads <= 65_535 else {
            throw TensorError.shapeMismatch(op: "\(op) query", expected: "at most 65535 heads", got: query.shape)
        }
    }

    /// Threads per attention block: 128 cover head dimensions up to 128; larger ones (up to 256) take 256.
    static func attentionBlock(headDim: Int) -> Int { headDim <= 128 ? 128 : 256 }
}
