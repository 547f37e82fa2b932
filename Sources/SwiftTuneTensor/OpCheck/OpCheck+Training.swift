/// Dropout, AdamW and the clip coefficient (`Backend` training section).
extension OpCheck {
    /// `dropout`: a probability in [0, 1], x and out f32 with x's element count.
    public static func dropout(_ x: Tensor, probability: Float, out: Tensor) throws {
        let op = "dropout"
        guard probability >= 0, probability <= 1 else {
            throw TensorError.invalidArgument(op: op, reason: "probability \(probability) is outside [0, 1]")
        }
        try storage(op, (x, "x"), (out, "out"))
        try count(out, x.count, op, "out")
    }

    /// `adamW(…, scalars:)`: parameter, gradient and the two moments f32 with the parameter's element count, scalars
    /// f32 `[AdamWCoefficients.scalarCount]`.
    public static func adamW(parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor,
                             scalars: Tensor) throws {
        let op = "adamW"
        try float(op, (parameter, "parameter"), (gradient, "gradient"), (firstMoment, "firstMoment"),
                  (secondMoment, "secondMoment"), (scalars, "scalars"))
        for (tensor, argument) in [(gradient, "gradient"), (firstMoment, "firstMoment"), (secondMoment, "secondMoment")] {
            try count(tensor, parameter.count, op, argument)
        }
        try shape(scalars, [AdamWCoefficients.scalarCount], op, "scalars")
    }

    /// `clipCoefficient`: sumOfSquares and coefficient f32 `[1]`, a finite maxNorm ≥ 0.
    public static func clipCoefficient(sumOfSquares: Tensor, maxNorm: Float, coefficient: Tensor) throws {
        let op = "clipCoefficient"
        guard maxNorm >= 0, maxNorm.isFinite else {
            throw TensorError.invalidArgument(op: op, reason: "maxNorm \(maxNorm) must be finite and ≥ 0")
        }
        try float(op, (sumOfSquares, "sumOfSquares"), (coefficient, "coefficient"))
        try shape(sumOfSquares, [1], op, "sumOfSquares")
        try shape(coefficient, [1], op, "coefficient")
    }
}
