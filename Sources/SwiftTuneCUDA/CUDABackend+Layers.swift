import SwiftTuneTensor

extension KernelFunction {
    /// `layers.cu`.
    static let layersFunctions: [KernelFunction] = [
        embedding, embeddingBackward, embeddingBackwardIntoStorage, rmsNorm, rmsNormBackward, rmsNormWeightGradient,
        rmsNormWeightGradientIntoStorage, rope,
    ]
    static let embedding = KernelFunction(.layers, "embedding", dtypes: [.f32, .bf16])
    /// gradOutput in its storage dtype, gradTable f32.
    static let embeddingBackward = KernelFunction(.layers, "embedding_backward", dtypes: [.f32, .bf16])
    /// gradOutput and gradTable in one 16-bit storage dtype.
    static let embeddingBackwardIntoStorage = KernelFunction(.layers, "embedding_backward_into", dtypes: [.bf16])
    static let rmsNorm = KernelFunction(.layers, "rms_norm", dtypes: [.f32, .bf16])
    static let rmsNormBackward = KernelFunction(.layers, "rms_norm_backward", dtypes: [.f32, .bf16])
    /// x and gradOutput in their storage dtype, gradWeight f32.
    static let rmsNormWeightGradient = KernelFunction(.layers, "rms_norm_weight_gradient", dtypes: [.f32, .bf16])
    /// x, gradOutput and gradWeight in one 16-bit storage dtype.
    static let rmsNormWeightGradientIntoStorage = KernelFunction(.layers, "rms_norm_weight_gradient_into",
                                                                 dtypes: [.bf16])
    static let rope = KernelFunction(.layers, "rope", dtypes: [.f32, .bf16])
}

/// Embedding, RMSNorm and RoPE. Semantics are the `Backend` protocol's; kernels are in `layers.cu`, in f32 and bf16
/// storage (f32 math, f32 `inverseRMS`), each picked by its tensors' dtype; gradient accumulators f32 or the storage dtype.
extension CUDABackend {
    // MARK: Embedding

    /// Ids outside `0..<V` give zero rows (forward) and are skipped (backward): the host does not read ids.
    public func embedding(ids: Tensor, table: Tensor, into out: Tensor) throws {
        let op = "embedding"
        let size = try OpCheck.embedding(ids: ids, table: table, out: out)
        try KernelLimits.fitsInt32([size.vocabulary, size.width], op, table.shape)
        try context.makeCurrent()
        try launchElementwise(.embedding, table.dtype, count: out.count, [
            .pointer(address(out, op)), .pointer(address(ids, op)), .pointer(address(table, op)), .long(size.tokens),
            .int(size.width), .int(size.vocabulary),
        ])
    }

    public func embeddingBackward(ids: Tensor, gradOutput: Tensor, into gradTable: Tensor) throws {
        let op = "embeddingBackward"
        let size = try OpCheck.embeddingBackward(ids: ids, gradOutput: gradOutput, gradTable: gradTable)
        try KernelLimits.fitsInt32([size.vocabulary, size.width], op, gradTable.shape)
        try context.makeCurrent()
        let function = KernelFunction.accumulating(.embeddingBackward, .embeddingBackwardIntoStorage,
                                                   storage: gradOutput.dtype, accumulator: gradTable.dtype)
        try launchElementwise(function, gradOutput.dtype, count: gradOutput.count, [
            .pointer(address(gradTable, op)), .pointer(address(ids, op)), .pointer(address(gradOutput, op)),
            .long(size.tokens), .int(size.width), .int(size.vocabulary),
        ])
    }

    // MARK: RMSNorm

    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, into out: Tensor, inverseRMS: Tensor?) throws {
        let op = "rmsNorm"
        let size = try OpCheck.rmsNorm(x, weight: weight, out: out, inverseRMS: inverseRMS)
        try KernelLimits.fitsInt32([size.rows, size.columns], op, x.shape)
        guard size.rows > 0, size.columns > 0 else { return }
        try context.makeCurrent()
        try launch(.rmsNorm, x.dtype, grid: (size.rows, 1), block: Self.rowBlock, [
            .pointer(address(out, op)), .pointer(address(inverseRMS, op)), .pointer(address(x, op)),
            .pointer(address(weight, op)), .int(size.columns), .float32(epsilon),
        ])
    }

    public func rmsNormBackward(_ x: Tensor, weight: Tensor, inverseRMS: Tensor, gradOutput: Tensor,
                                into gradInput: Tensor, gradWeight: Tensor?) throws {
        let op = "rmsNormBackward"
        let size = try OpCheck.rmsNormBackward(x, weight: weight, inverseRMS: inverseRMS, gradOutput: gradOutput,
                                               gradInput: gradInput, gradWeight: gradWeight)
        let (rows, dim) = (size.rows, size.columns)
        try KernelLimits.fitsInt32([rows, dim], op, x.shape)
        guard rows > 0, dim > 0 else { return }
        try context.makeCurrent()
        // The weight gradient goes first: it still reads gradOutput, which gradInput may overwrite.
        if let gradWeight {
            let block = 256
            let function = KernelFunction.accumulating(.rmsNormWeightGradient, .rmsNormWeightGradientIntoStorage,
                                                       storage: x.dtype, accumulator: gradWeight.dtype)
            try launch(function, x.dtype, grid: ((dim + block - 1) / block, 1), block: block, [
                .pointer(address(gradWeight, op)), .pointer(address(x, op)), .pointer(address(inverseRMS, op)),
                .pointer(address(gradOutput, op)), .long(rows), .int(dim),
            ])
        }
        try launch(.rmsNormBackward, x.dtype, grid: (rows, 1), block: Self.rowBlock, [
            .pointer(address(gradInput, op)), .pointer(address(x, op)), .pointer(address(weight, op)),
            .pointer(address(inverseRMS, op)), .pointer(address(gradOutput, op)), .int(dim),
        ])
    }

    // MARK: RoPE

    public func rope(_ x: Tensor, positions: Tensor, inverseFrequencies: Tensor, attentionScaling: Float,
                     inverse: Bool, into out: Tensor) throws {
        let op = "rope"
        let size = try OpCheck.rope(x, positions: positions, inverseFrequencies: inverseFrequencies, out: out)
        try KernelLimits.fitsInt32([size.heads, size.headDim], op, x.shape)
        try context.makeCurrent()
        try launchElementwise(.rope, x.dtype, count: size.tokens * size.heads * (size.headDim / 2), [
            .pointer(address(out, op)), .pointer(address(x, op)), .pointer(address(positions, op)),
            .pointer(address(inverseFrequencies, op)), .long(size.tokens), .int(size.heads), .int(size.headDim),
            .float32(attentionScaling), .flag(inverse),
        ])
    }
}
