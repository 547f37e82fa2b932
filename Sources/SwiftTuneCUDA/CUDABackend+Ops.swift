import SwiftTuneTensor

/// Elementwise ops, reductions and the per-row layers (embedding, RMSNorm, RoPE, SwiGLU, cross-entropy).
/// Semantics are the `Backend` protocol's; kernels are in `Kernels/kernels.cu`.
extension CUDABackend {
    // MARK: Elementwise and reductions

    public func add(_ a: Tensor, _ b: Tensor, scale: Float, into out: Tensor) throws {
        let op = "add"
        try Validate.f32([(a, "a"), (b, "b"), (out, "out")], op)
        try Validate.count(b, a.count, op, "b")
        try Validate.count(out, a.count, op, "out")
        try context.makeCurrent()
        try launchElementwise(.addF32, count: a.count, [
            .pointer(address(out, op)), .pointer(address(a, op)), .pointer(address(b, op)), .float32(scale),
            .long(a.count),
        ])
    }

    public func scale(_ x: Tensor, by factor: Float, into out: Tensor) throws {
        let op = "scale"
        try Validate.f32([(x, "x"), (out, "out")], op)
        try Validate.count(out, x.count, op, "out")
        try context.makeCurrent()
        try launchElementwise(.scaleF32, count: x.count, [
            .pointer(address(out, op)), .pointer(address(x, op)), .float32(factor), .long(x.count),
        ])
    }

    public func addBias(_ x: Tensor, bias: Tensor, into out: Tensor) throws {
        let op = "addBias"
        try Validate.f32([(x, "x"), (bias, "bias"), (out, "out")], op)
        let (rows, columns) = try Validate.rows(x, op, "x")
        try Validate.shape(bias, [columns], op, "bias")
        try Validate.count(out, x.count, op, "out")
        try Validate.fitsInt32([columns], op, x.shape)
        try context.makeCurrent()
        try launchElementwise(.addBiasF32, count: x.count, [
            .pointer(address(out, op)), .pointer(address(x, op)), .pointer(address(bias, op)), .long(rows),
            .int(columns),
        ])
    }

    public func sumRows(_ x: Tensor, into out: Tensor, accumulate: Bool) throws {
        let op = "sumRows"
        try Validate.f32([(x, "x"), (out, "out")], op)
        let (rows, columns) = try Validate.rows(x, op, "x")
        try Validate.count(out, columns, op, "out")
        try Validate.fitsInt32([columns], op, x.shape)
        guard columns > 0 else { return }
        try context.makeCurrent()
        let block = 256
        try launch(.sumRowsF32, grid: ((columns + block - 1) / block, 1), block: block, [
            .pointer(address(out, op)), .pointer(address(x, op)), .long(rows), .int(columns), .flag(accumulate),
        ])
    }

    public func sumOfSquares(_ x: Tensor, into out: Tensor, accumulate: Bool) throws {
        let op = "sumOfSquares"
        try Validate.f32([(x, "x"), (out, "out")], op)
        try Validate.count(out, 1, op, "out")
        try context.makeCurrent()
        let target = try address(out, op)
        if !accumulate {
            try driverCheck(context.driver.cuMemsetD32Async(target, 0, 1, context.stream), "cuMemsetD32Async")
        }
        // Each block adds its partial sum with atomicAdd, so the order of the final additions may vary run to run.
        guard x.count > 0 else { return }
        let block = Self.elementwiseBlock
        let blocks = min((x.count + block - 1) / block, 1024)
        try launch(.sumOfSquaresF32, grid: (blocks, 1), block: block, [
            .pointer(target), .pointer(address(x, op)), .long(x.count),
        ])
    }

    // MARK: Embedding

    /// Ids outside `0..<V` give zero rows (forward) and are skipped (backward): the host does not read ids.
    public func embedding(ids: Tensor, table: Tensor, into out: Tensor) throws {
        let op = "embedding"
        try Validate.dtype(ids, .i32, op, "ids")
        try Validate.f32([(table, "table"), (out, "out")], op)
        try Validate.rank(table, 2, op, "table", "[V, D]")
        let (vocabulary, dim) = (table.shape[0], table.shape[1])
        try Validate.shape(out, [ids.count, dim], op, "out")
        try Validate.fitsInt32([vocabulary, dim], op, table.shape)
        try context.makeCurrent()
        try launchElementwise(.embeddingF32, count: out.count, [
            .pointer(address(out, op)), .pointer(address(ids, op)), .pointer(address(table, op)), .long(ids.count),
            .int(dim), .int(vocabulary),
        ])
    }

    public func embeddingBackward(ids: Tensor, gradOutput: Tensor, into gradTable: Tensor) throws {
        let op = "embeddingBackward"
        try Validate.dtype(ids, .i32, op, "ids")
        try Validate.f32([(gradOutput, "gradOutput"), (gradTable, "gradTable")], op)
        try Validate.rank(gradTable, 2, op, "gradTable", "[V, D]")
        let (vocabulary, dim) = (gradTable.shape[0], gradTable.shape[1])
        try Validate.shape(gradOutput, [ids.count, dim], op, "gradOutput")
        try Validate.fitsInt32([vocabulary, dim], op, gradTable.shape)
        try context.makeCurrent()
        try launchElementwise(.embeddingBackwardF32, count: gradOutput.count, [
            .pointer(address(gradTable, op)), .pointer(address(ids, op)), .pointer(address(gradOutput, op)),
            .long(ids.count), .int(dim), .int(vocabulary),
        ])
    }

    // MARK: RMSNorm

    /// Threads per block for the one-block-per-row kernels.
    static let rowBlock = 256

    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, into out: Tensor, inverseRMS: Tensor?) throws {
        let op = "rmsNorm"
        try Validate.f32([(x, "x"), (weight, "weight"), (out, "out")], op)
        let (rows, dim) = try Validate.rows(x, op, "x")
        try Validate.shape(weight, [dim], op, "weight")
        try Validate.count(out, x.count, op, "out")
        if let inverseRMS {
            try Validate.dtype(inverseRMS, .f32, op, "inverseRMS")
            try Validate.count(inverseRMS, rows, op, "inverseRMS")
        }
        try Validate.fitsInt32([rows, dim], op, x.shape)
        guard rows > 0, dim > 0 else { return }
        try context.makeCurrent()
        try launch(.rmsNormF32, grid: (rows, 1), block: Self.rowBlock, [
            .pointer(address(out, op)), .pointer(try inverseRMS.map { try address($0, op) } ?? 0),
            .pointer(address(x, op)), .pointer(address(weight, op)), .int(dim), .float32(epsilon),
        ])
    }

    public func rmsNormBackward(_ x: Tensor, weight: Tensor, inverseRMS: Tensor, gradOutput: Tensor,
                                into gradInput: Tensor, gradWeight: Tensor?) throws {
        let op = "rmsNormBackward"
        try Validate.f32([(x, "x"), (weight, "weight"), (inverseRMS, "inverseRMS"), (gradOutput, "gradOutput"),
                          (gradInput, "gradInput")], op)
        let (rows, dim) = try Validate.rows(x, op, "x")
        try Validate.shape(weight, [dim], op, "weight")
        try Validate.count(inverseRMS, rows, op, "inverseRMS")
        try Validate.count(gradOutput, x.count, op, "gradOutput")
        try Validate.count(gradInput, x.count, op, "gradInput")
        if let gradWeight {
            try Validate.dtype(gradWeight, .f32, op, "gradWeight")
            try Validate.shape(gradWeight, [dim], op, "gradWeight")
        }
        try Validate.fitsInt32([rows, dim], op, x.shape)
        guard rows > 0, dim > 0 else { return }
        try context.makeCurrent()
        try launch(.rmsNormBackwardF32, grid: (rows, 1), block: Self.rowBlock, [
            .pointer(address(gradInput, op)), .pointer(address(x, op)), .pointer(address(weight, op)),
            .pointer(address(inverseRMS, op)), .pointer(address(gradOutput, op)), .int(dim),
        ])
        if let gradWeight {
            let block = 256
            try launch(.rmsNormWeightGradientF32, grid: ((dim + block - 1) / block, 1), block: block, [
                .pointer(address(gradWeight, op)), .pointer(address(x, op)), .pointer(address(inverseRMS, op)),
                .pointer(address(gradOutput, op)), .long(rows), .int(dim),
            ])
        }
    }

    // MARK: RoPE

    public func rope(_ x: Tensor, positions: Tensor, inverseFrequencies: Tensor, attentionScaling: Float,
                     inverse: Bool, into out: Tensor) throws {
        let op = "rope"
        try Validate.f32([(x, "x"), (inverseFrequencies, "inverseFrequencies"), (out, "out")], op)
        try Validate.dtype(positions, .i32, op, "positions")
        try Validate.rank(x, 3, op, "x", "[N, H, hd]")
        let (tokens, heads, headDim) = (x.shape[0], x.shape[1], x.shape[2])
        guard headDim % 2 == 0 else {
            throw TensorError.shapeMismatch(op: "\(op)(x)", expected: "an even head dimension", got: x.shape)
        }
        try Validate.count(positions, tokens, op, "positions")
        try Validate.count(inverseFrequencies, headDim / 2, op, "inverseFrequencies")
        try Validate.shape(out, x.shape, op, "out")
        try Validate.fitsInt32([heads, headDim], op, x.shape)
        try context.makeCurrent()
        try launchElementwise(.ropeF32, count: tokens * heads * (headDim / 2), [
            .pointer(address(out, op)), .pointer(address(x, op)), .pointer(address(positions, op)),
            .pointer(address(inverseFrequencies, op)), .long(tokens), .int(heads), .int(headDim),
            .float32(attentionScaling), .flag(inverse),
        ])
    }

    // MARK: SwiGLU

    public func swiglu(gate: Tensor, up: Tensor, into out: Tensor) throws {
        let op = "swiglu"
        try Validate.f32([(gate, "gate"), (up, "up"), (out, "out")], op)
        try Validate.shape(up, gate.shape, op, "up")
        try Validate.shape(out, gate.shape, op, "out")
        try context.makeCurrent()
        try launchElementwise(.swigluF32, count: gate.count, [
            .pointer(address(out, op)), .pointer(address(gate, op)), .pointer(address(up, op)), .long(gate.count),
        ])
    }

    public func swigluBackward(gate: Tensor, up: Tensor, gradOutput: Tensor,
                               into gradGate: Tensor, gradUp: Tensor) throws {
        let op = "swigluBackward"
        try Validate.f32([(gate, "gate"), (up, "up"), (gradOutput, "gradOutput"), (gradGate, "gradGate"),
                          (gradUp, "gradUp")], op)
        for (tensor, role) in [(up, "up"), (gradOutput, "gradOutput"), (gradGate, "gradGate"), (gradUp, "gradUp")] {
            try Validate.shape(tensor, gate.shape, op, role)
        }
        try context.makeCurrent()
        try launchElementwise(.swigluBackwardF32, count: gate.count, [
            .pointer(address(gradGate, op)), .pointer(address(gradUp, op)), .pointer(address(gate, op)),
            .pointer(address(up, op)), .pointer(address(gradOutput, op)), .long(gate.count),
        ])
    }

    // MARK: Cross-entropy

    /// Targets outside `0..<V` (not only `-100`) are treated as ignored: the host does not read targets.
    public func crossEntropy(logits: Tensor, targets: Tensor, gradientScale: Float?, tokenWeights: Tensor?,
                             stats: Tensor, logProbabilities: Tensor?) throws {
        let op = "crossEntropy"
        try Validate.f32([(logits, "logits"), (stats, "stats")], op)
        try Validate.dtype(targets, .i32, op, "targets")
        try Validate.rank(logits, 2, op, "logits", "[N, V]")
        let (rows, vocabulary) = (logits.shape[0], logits.shape[1])
        try Validate.count(targets, rows, op, "targets")
        try Validate.count(stats, 3, op, "stats")
        if let logProbabilities {
            try Validate.dtype(logProbabilities, .f32, op, "logProbabilities")
            try Validate.count(logProbabilities, rows, op, "logProbabilities")
        }
        if let tokenWeights {
            try Validate.dtype(tokenWeights, .f32, op, "tokenWeights")
            try Validate.count(tokenWeights, rows, op, "tokenWeights")
        }
        try Validate.fitsInt32([rows, vocabulary], op, logits.shape)
        guard rows > 0 else { return }
        guard vocabulary > 0 else {
            throw TensorError.shapeMismatch(op: "\(op)(logits)", expected: "[N, V] with V > 0", got: logits.shape)
        }
        try context.makeCurrent()
        try launch(.crossEntropyF32, grid: (rows, 1), block: vocabulary >= 8192 ? 1024 : Self.rowBlock, [
            .pointer(address(logits, op)), .pointer(address(targets, op)), .pointer(address(stats, op)),
            .pointer(try logProbabilities.map { try address($0, op) } ?? 0), .int(vocabulary),
            .flag(gradientScale != nil), .float32(gradientScale ?? 0),
            .pointer(try tokenWeights.map { try address($0, op) } ?? 0),
        ])
    }
}
