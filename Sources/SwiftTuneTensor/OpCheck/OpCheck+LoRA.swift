/// The LoRA side-path ops (`Backend` training section): x `[N, in]`, a `[r, in]`, du and u `[N, r]`, dx `[N, in]` in
/// one storage dtype; dA f32 `[r, in]`; a probability in [0, 1].
extension OpCheck {
    /// `loraDown`: u `[N, r]` from x `[N, in]` and a `[r, in]`.
    public static func loraDown(_ x: Tensor, a: Tensor, probability: Float, u: Tensor) throws {
        let op = "loraDown"
        try loraProbability(probability, op)
        try storage(op, (x, "x"), (a, "a"), (u, "u"))
        let (n, _, rank) = try loraSizes(x, a, op)
        try shape(u, [n, rank], op, "u")
    }

    /// `loraDownGradient`: dA f32 `[r, in]` from du `[N, r]` and x `[N, in]`.
    public static func loraDownGradient(_ du: Tensor, x: Tensor, probability: Float, dA: Tensor) throws {
        let op = "loraDownGradient"
        try loraProbability(probability, op)
        try storage(op, (x, "x"), (du, "du"))
        try dtype(dA, .f32, op, "dA")
        guard x.shape.count == 2, du.shape.count == 2, du.shape[0] == x.shape[0] else {
            throw TensorError.shapeMismatch(op: "\(op) du", expected: "[N, r] with x's N (x is \(x.shape))", got: du.shape)
        }
        try shape(dA, [du.shape[1], x.shape[1]], op, "dA")
    }

    /// `loraInputGradient`: dx `[N, in]` from du `[N, r]` and a `[r, in]`.
    public static func loraInputGradient(_ du: Tensor, a: Tensor, probability: Float, dx: Tensor) throws {
        let op = "loraInputGradient"
        try loraProbability(probability, op)
        try storage(op, (dx, "dx"), (du, "du"), (a, "a"))
        let (n, _, rank) = try loraSizes(dx, a, op)
        try shape(du, [n, rank], op, "du")
    }

    private static func loraProbability(_ probability: Float, _ op: String) throws {
        guard probability >= 0, probability <= 1 else {
            throw TensorError.invalidArgument(op: op, reason: "probability \(probability) is outside [0, 1]")
        }
    }

    /// (N, in, r) of an `[N, in]` activation and an `[r, in]` factor.
    private static func loraSizes(_ x: Tensor, _ a: Tensor, _ op: String) throws -> (Int, Int, Int) {
        guard x.shape.count == 2 else {
            throw TensorError.shapeMismatch(op: "\(op) x", expected: "[N, in]", got: x.shape)
        }
        guard a.shape.count == 2, a.shape[1] == x.shape[1] else {
            throw TensorError.shapeMismatch(op: "\(op) a", expected: "[r, \(x.shape[1])]", got: a.shape)
        }
        return (x.shape[0], x.shape[1], a.shape[0])
    }
}
