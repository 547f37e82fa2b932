/// The dtype and shape checks of `Backend.sample`, shared by the backends (values are checked where a backend
/// can read them: the CPU backend checks offsets and settings too).
public enum SampleShapes {
    /// Checks every argument of `sample`; returns the rows S and the vocabulary V of the logits.
    public static func check(logits: Tensor, parameters: Tensor, historyIds: Tensor, historyStarts: Tensor,
                             answerStarts: Tensor, tokens: Tensor, logprobs: Tensor?) throws -> (rows: Int, vocabulary: Int) {
        let op = "sample"
        func dtype(_ tensor: Tensor, _ expected: DType, _ name: String) throws {
            guard tensor.dtype == expected else {
                throw TensorError.dtypeMismatch(op: "\(op) \(name)", expected: "\(expected)", got: tensor.dtype)
            }
        }
        func shape(_ tensor: Tensor, _ expected: [Int], _ name: String) throws {
            guard tensor.shape == expected else {
                throw TensorError.shapeMismatch(op: "\(op) \(name)", expected: "\(expected)", got: tensor.shape)
            }
        }
        try dtype(logits, .f32, "logits")
        guard logits.rank == 2, logits.size(0) >= 1, logits.size(1) >= 1, logits.size(1) <= Int(Int32.max) else {
            throw TensorError.shapeMismatch(op: "\(op) logits", expected: "[S, V] with S, V ≥ 1", got: logits.shape)
        }
        let (rows, vocabulary) = (logits.size(0), logits.size(1))
        try dtype(parameters, .f64, "parameters")
        try shape(parameters, [rows, SamplingParameter.count], "parameters")
        try dtype(historyIds, .i32, "historyIds")
        guard historyIds.rank == 1, historyIds.count <= Int(Int32.max) else {
            throw TensorError.shapeMismatch(op: "\(op) historyIds", expected: "[H] with H < 2^31", got: historyIds.shape)
        }
        try dtype(historyStarts, .i32, "historyStarts")
        try shape(historyStarts, [rows + 1], "historyStarts")
        try dtype(answerStarts, .i32, "answerStarts")
        try shape(answerStarts, [rows], "answerStarts")
        try dtype(tokens, .i32, "tokens")
        try shape(tokens, [rows], "tokens")
        if let logprobs {
            try dtype(logprobs, .f64, "logprobs")
            try shape(logprobs, [rows], "logprobs")
        }
        return (rows, vocabulary)
    }
}
