/// Softmax cross-entropy fused with its gradient (`Backend.crossEntropy`).
extension OpCheck {
    /// `crossEntropy`: logits f32 `[N, V]` with V ≥ 1 (unless N is 0), targets i32 `[N]`, stats `[3]`,
    /// logProbabilities `[N]` when given. Targets in range are the CPU's to check.
    public static func crossEntropy(logits: Tensor, targets: Tensor, stats: Tensor,
                                    logProbabilities: Tensor?, tokenWeights: Tensor? = nil) throws -> RowShape {
        let op = "crossEntropy"
        try float(op, (logits, "logits"), (stats, "stats"))
        try dtype(targets, .i32, op, "targets")
        try rank(logits, 2, op, "logits", layout: "[N, V]")
        let size = RowShape(rows: logits.size(0), columns: logits.size(1))
        guard size.columns > 0 || size.rows == 0 else {
            throw TensorError.shapeMismatch(op: "\(op) logits", expected: "[N, V] with V ≥ 1", got: logits.shape)
        }
        try shape(targets, [size.rows], op, "targets")
        try shape(stats, [3], op, "stats")
        if let logProbabilities {
            try float(op, (logProbabilities, "logProbabilities"))
            try shape(logProbabilities, [size.rows], op, "logProbabilities")
        }
        if let tokenWeights {
            try float(op, (tokenWeights, "tokenWeights"))
            try shape(tokenWeights, [size.rows], op, "tokenWeights")
        }
        return size
    }
}
