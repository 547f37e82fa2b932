/// The collectives of a `Communicator` (the same checks for the single-process and the NCCL implementation).
extension OpCheck {
    /// `allReduce`: input and output float tensors of one dtype and element count.
    public static func allReduce(_ input: Tensor, output: Tensor, worldSize: Int) throws {
        let op = "allReduce"
        try collective(op, input, output)
        try count(output, input.count, op, "output")
    }

    /// `reduceScatter`: input `worldSize` times output's element count.
    public static func reduceScatter(_ input: Tensor, output: Tensor, worldSize: Int) throws {
        let op = "reduceScatter"
        try collective(op, input, output)
        try count(input, worldSize * output.count, op, "input (worldSize \(worldSize) × output)")
    }

    /// `allGather`: output `worldSize` times input's element count.
    public static func allGather(_ input: Tensor, output: Tensor, worldSize: Int) throws {
        let op = "allGather"
        try collective(op, input, output)
        try count(output, worldSize * input.count, op, "output (worldSize \(worldSize) × input)")
    }

    /// `broadcast`: a float tensor and a root rank in `0..<worldSize`.
    public static func broadcast(_ tensor: Tensor, root: Int, worldSize: Int) throws {
        guard tensor.dtype.isFloatingPoint else {
            throw TensorError.dtypeMismatch(op: "broadcast tensor", expected: "a float dtype", got: tensor.dtype)
        }
        guard (0..<worldSize).contains(root) else {
            throw TensorError.indexOutOfRange(op: "broadcast root", index: root, bound: worldSize)
        }
    }

    /// Float tensors of one dtype on one backend.
    private static func collective(_ op: String, _ input: Tensor, _ output: Tensor) throws {
        guard input.dtype.isFloatingPoint else {
            throw TensorError.dtypeMismatch(op: "\(op) input", expected: "a float dtype", got: input.dtype)
        }
        try dtype(output, input.dtype, op, "output")
        guard input.backend === output.backend else {
            throw TensorError.unsupported(op: "\(op) from \(input.backend.name) into \(output.backend.name)",
                                          backend: output.backend.name, hint: "keep both tensors on one backend")
        }
    }
}
