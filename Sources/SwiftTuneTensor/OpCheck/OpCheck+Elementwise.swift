/// The elementwise ops, the reductions and SwiGLU (`Backend` elementwise section).
extension OpCheck {
    /// `add`: a, b, out f32 with a's element count.
    public static func add(_ a: Tensor, _ b: Tensor, out: Tensor) throws {
        let op = "add"
        try storage(op, (a, "a"), (b, "b"), (out, "out"))
        try count(b, a.count, op, "b")
        try count(out, a.count, op, "out")
    }

    /// `scale`: x, out f32 with x's element count.
    public static func scale(_ x: Tensor, out: Tensor) throws {
        let op = "scale"
        try storage(op, (x, "x"), (out, "out"))
        try count(out, x.count, op, "out")
    }

    /// `scale(_:byDeviceScalar:into:)`: x, out f32 with x's element count, factor f32 `[1]`.
    public static func scaleByDeviceScalar(_ x: Tensor, factor: Tensor, out: Tensor) throws {
        let op = "scaleByDeviceScalar"
        try storage(op, (x, "x"), (out, "out"))
        try float(op, (factor, "factor"))
        try shape(factor, [1], op, "factor")
        try count(out, x.count, op, "out")
    }

    /// `addBias`: x `[N, C]` (any rank ≥ 1), bias `[C]`, out x's shape.
    public static func addBias(_ x: Tensor, bias: Tensor, out: Tensor) throws -> RowShape {
        let op = "addBias"
        try storage(op, (x, "x"), (bias, "bias"), (out, "out"))
        let size = try rows(x, op, "x")
        try shape(bias, [size.columns], op, "bias")
        try shape(out, x.shape, op, "out")
        return size
    }

    /// `sumRows`: x `[N, C]` (any rank ≥ 1), out `[C]`.
    public static func sumRows(_ x: Tensor, out: Tensor) throws -> RowShape {
        let op = "sumRows"
        try accumulator(out, storage: try storage(op, (x, "x")), op, "out")
        let size = try rows(x, op, "x")
        try shape(out, [size.columns], op, "out")
        return size
    }

    /// `sumOfSquares`: x f32 of any shape, out one element.
    public static func sumOfSquares(_ x: Tensor, out: Tensor) throws {
        let op = "sumOfSquares"
        try storage(op, (x, "x"))
        try float(op, (out, "out"))
        try count(out, 1, op, "out")
    }

    /// `swiglu`: gate, up and out of one shape.
    public static func swiglu(gate: Tensor, up: Tensor, out: Tensor) throws {
        let op = "swiglu"
        try storage(op, (gate, "gate"), (up, "up"), (out, "out"))
        try shape(up, gate.shape, op, "up")
        try shape(out, gate.shape, op, "out")
    }

    /// `swigluBackward`: every tensor of gate's shape.
    public static func swigluBackward(gate: Tensor, up: Tensor, gradOutput: Tensor, gradGate: Tensor,
                                      gradUp: Tensor) throws {
        let op = "swigluBackward"
        let others = [(up, "up"), (gradOutput, "gradOutput"), (gradGate, "gradGate"), (gradUp, "gradUp")]
        try storage(op, [(gate, "gate")] + others)
        for (tensor, argument) in others { try shape(tensor, gate.shape, op, argument) }
    }
}
