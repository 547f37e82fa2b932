/// Embedding, RMSNorm and RoPE (`Backend` layers section).
extension OpCheck {
    /// The sizes of an embedding lookup: `tokens` ids into a `[vocabulary, width]` table.
    public struct EmbeddingShape: Sendable, Equatable {
        public var tokens: Int
        public var vocabulary: Int
        public var width: Int
    }

    /// `embedding`: ids i32 `[N]`, table `[V, D]`, out `[N, D]`. Ids in `0..<V` are the caller's (or the CPU's) to check.
    public static func embedding(ids: Tensor, table: Tensor, out: Tensor) throws -> EmbeddingShape {
        let op = "embedding"
        try storage(op, (table, "table"), (out, "out"))
        try rank(table, 2, op, "table", layout: "[V, D]")
        let shape = try embeddingIDs(ids, table: table, op)
        try self.shape(out, [shape.tokens, shape.width], op, "out")
        return shape
    }

    /// `embeddingBackward`: ids i32 `[N]`, gradOutput `[N, D]`, gradTable `[V, D]`.
    public static func embeddingBackward(ids: Tensor, gradOutput: Tensor, gradTable: Tensor) throws -> EmbeddingShape {
        let op = "embeddingBackward"
        try accumulator(gradTable, storage: try storage(op, (gradOutput, "gradOutput")), op, "gradTable")
        try rank(gradTable, 2, op, "gradTable", layout: "[V, D]")
        let shape = try embeddingIDs(ids, table: gradTable, op)
        try self.shape(gradOutput, [shape.tokens, shape.width], op, "gradOutput")
        return shape
    }

    private static func embeddingIDs(_ ids: Tensor, table: Tensor, _ op: String) throws -> EmbeddingShape {
        try rank(ids, 1, op, "ids", layout: "[N]")
        try dtype(ids, .i32, op, "ids")
        return EmbeddingShape(tokens: ids.count, vocabulary: table.size(0), width: table.size(1))
    }

    /// `rmsNorm`: x `[N, D]` (any rank ≥ 1), weight `[D]`, out x's shape, inverseRMS N elements when given.
    public static func rmsNorm(_ x: Tensor, weight: Tensor, out: Tensor, inverseRMS: Tensor?) throws -> RowShape {
        let op = "rmsNorm"
        try storage(op, (x, "x"), (weight, "weight"), (out, "out"))
        let size = try rows(x, op, "x")
        try shape(weight, [size.columns], op, "weight")
        try shape(out, x.shape, op, "out")
        if let inverseRMS {
            try float(op, (inverseRMS, "inverseRMS"))
            try count(inverseRMS, size.rows, op, "inverseRMS")
        }
        return size
    }

    /// `rmsNormBackward`: x, gradOutput, gradInput `[N, D]`, weight and gradWeight (when given) `[D]`,
    /// inverseRMS N elements.
    public static func rmsNormBackward(_ x: Tensor, weight: Tensor, inverseRMS: Tensor, gradOutput: Tensor,
                                       gradInput: Tensor, gradWeight: Tensor?) throws -> RowShape {
        let op = "rmsNormBackward"
        let stored = try storage(op, (x, "x"), (weight, "weight"), (gradOutput, "gradOutput"), (gradInput, "gradInput"))
        try float(op, (inverseRMS, "inverseRMS"))
        let size = try rows(x, op, "x")
        try shape(weight, [size.columns], op, "weight")
        try count(inverseRMS, size.rows, op, "inverseRMS")
        try shape(gradOutput, x.shape, op, "gradOutput")
        try shape(gradInput, x.shape, op, "gradInput")
        if let gradWeight {
            try accumulator(gradWeight, storage: stored, op, "gradWeight")
            try shape(gradWeight, [size.columns], op, "gradWeight")
        }
        return size
    }

    /// The sizes of a RoPE call: x `[tokens, heads, headDim]`.
    public struct RopeShape: Sendable, Equatable {
        public var tokens: Int
        public var heads: Int
        public var headDim: Int
    }

    /// `rope`: x and out `[N, H, hd]` with hd even, positions i32 `[N]`, inverseFrequencies `[hd / 2]`.
    public static func rope(_ x: Tensor, positions: Tensor, inverseFrequencies: Tensor, out: Tensor) throws -> RopeShape {
        let op = "rope"
        try storage(op, (x, "x"), (out, "out"))
        try float(op, (inverseFrequencies, "inverseFrequencies"))
        try dtype(positions, .i32, op, "positions")
        try rank(x, 3, op, "x", layout: "[N, H, hd]")
        let size = RopeShape(tokens: x.size(0), heads: x.size(1), headDim: x.size(2))
        guard size.headDim % 2 == 0 else {
            throw TensorError.shapeMismatch(op: "\(op) x", expected: "[N, H, hd] with an even hd", got: x.shape)
        }
        try shape(positions, [size.tokens], op, "positions")
        try shape(inverseFrequencies, [size.headDim / 2], op, "inverseFrequencies")
        try shape(out, x.shape, op, "out")
        return size
    }
}
