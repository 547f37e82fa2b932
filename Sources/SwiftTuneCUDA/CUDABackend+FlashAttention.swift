import SwiftTuneTensor

extension KernelFunction {
    /// The flash-attention kernels of `attention.cu` (bf16 storage), per supported head dimension.
    static let flashFunctions: [KernelFunction] = [flashTileStarts, flashBackwardDelta, flashReduceGroups]
        + FlashAttention.headDims.flatMap { [flashForward($0), flashBackwardQuery($0), flashBackwardKeyValue($0)] }
    static let flashTileStarts = KernelFunction(.attention, "flash_tile_starts")
    static let flashBackwardDelta = KernelFunction(.attention, "flash_backward_delta", dtypes: [.bf16])
    static let flashReduceGroups = KernelFunction(.attention, "flash_reduce_groups", dtypes: [.bf16])
    static func flashForward(_ headDim: Int) -> KernelFunction {
        KernelFunction(.attention, "flash_attention_forward_hd\(headDim)", dtypes: [.bf16])
    }
    static func flashBackwardQuery(_ headDim: Int) -> KernelFunction {
        KernelFunction(.attention, "flash_attention_backward_query_hd\(headDim)", dtypes: [.bf16])
    }
    static func flashBackwardKeyValue(_ headDim: Int) -> KernelFunction {
        KernelFunction(.attention, "flash_attention_backward_key_value_hd\(headDim)", dtypes: [.bf16])
    }
}

/// The sizes the flash-attention kernels are built around (`FLASH_TILE`, `FLASH_QUERY_STEP`, `FLASH_THREADS` in
/// attention.cu, whose comment block explains the tiling and the tensor-core fragment layouts).
enum FlashAttention {
    /// Head dimensions with a tensor-core kernel.
    static let headDims = [64, 128]
    /// Rows of one packed sequence per tile (query rows forward and for gradQuery, keys for gradKey / gradValue).
    static let tileRows = 64
    /// Query rows per step of the gradKey / gradValue kernel.
    static let queryStep = 32
    static let threads = 128

    /// Tiles for the worst case of `sequences` sequences over `tokens` rows: Σ ceil(length / 64) ≤ this.
    static func gridTiles(tokens: Int, sequences: Int) -> Int { (tokens + tileRows - 1) / tileRows + sequences }

    /// Dynamic shared memory of the forward kernel: a Q tile and two buffers each of K and V tiles, bf16.
    static func forwardSharedBytes(headDim: Int) -> Int { 5 * tileRows * headDim * 2 }
    /// Of the gradQuery kernel: Q, dO tiles and two buffers each of K, V tiles.
    static func queryGradientSharedBytes(headDim: Int) -> Int { 6 * tileRows * headDim * 2 }
    /// Of the gradKey / gradValue kernel: K, V tiles, two buffers of Q, dO steps, then two of a step's lse and delta
    /// in f32.
    static func keyValueGradientSharedBytes(headDim: Int) -> Int {
        (2 * tileRows + 4 * queryStep) * headDim * 2 + 4 * queryStep * 4
    }
}

/// bf16 attention on tensor cores: the same semantics as the f32 kernels (causal, packed, grouped-query, optional
/// sliding window), computed as FlashAttention-2 does, with f32 accumulation and the f32 log-sum-exp saved.
/// Deterministic: grouped-query dK, dV are per-head f32 partials summed in order, and gradQuery has its own kernel.
extension CUDABackend {
    func flashAttention(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor, size: OpCheck.AttentionShape,
                        window: Int, scale: Float, out: Tensor, logSumExp: Tensor?) throws {
        let op = "attention"
        let headDim = try flashHeadDim(size, op, query: query)
        try flashAligned(op, [(query, "query"), (key, "key"), (value, "value"), (out, "out")])
        let tiles = FlashAttention.gridTiles(tokens: size.tokens, sequences: size.sequences)
        try KernelLimits.fitsInt32([tiles], op, query.shape)
        let tileStarts = try flashTileStarts(sequenceStarts, sequences: size.sequences, op)
        try withExtendedLifetime(tileStarts) {
            try launch(.flashForward(headDim), .bf16, grid: (tiles, size.queryHeads), block: FlashAttention.threads,
                       sharedBytes: FlashAttention.forwardSharedBytes(headDim: headDim), [
                .pointer(address(out, op)), .pointer(address(logSumExp, op)), .pointer(address(query, op)),
                .pointer(address(key, op)), .pointer(address(value, op)), .pointer(address(sequenceStarts, op)),
                .pointer(address(tileStarts, op)), .int(size.sequences), .int(size.queryHeads),
                .int(size.keyValueHeads), .int(window), .float32(scale),
            ])
        }
    }

    func flashAttentionBackward(query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                                gradOutput: Tensor, sequenceStarts: Tensor, size: OpCheck.AttentionShape,
                                window: Int, scale: Float, gradQuery: Tensor, gradKey: Tensor,
                                gradValue: Tensor) throws {
        let op = "attentionBackward"
        let headDim = try flashHeadDim(size, op, query: query)
        try flashAligned(op, [(query, "query"), (key, "key"), (value, "value"), (output, "output"),
                              (gradOutput, "gradOutput"), (gradQuery, "gradQuery"), (gradKey, "gradKey"),
                              (gradValue, "gradValue")])
        let tiles = FlashAttention.gridTiles(tokens: size.tokens, sequences: size.sequences)
        let rows = size.tokens * size.queryHeads
        try KernelLimits.fitsInt32([tiles, (rows + 7) / 8], op, query.shape)
        let group = size.queryHeads / size.keyValueHeads

        let tileStarts = try flashTileStarts(sequenceStarts, sequences: size.sequences, op)
        // delta[i, h] = gradOutput[i, h] · output[i, h] (N, Hq) f32; with groups, per-query-head partial dK and dV
        // (N, Hq, hd) f32. Freed stream-ordered, so they stay alive until the kernels that read them are queued.
        let delta = try allocate(shape: [size.tokens, size.queryHeads], dtype: .f32, zeroed: false)
        let partials = group > 1 ? try (0..<2).map { _ in
            try allocate(shape: [size.tokens, size.queryHeads, headDim], dtype: .f32, zeroed: false)
        } : []
        try withExtendedLifetime((tileStarts, delta, partials)) {
            try launch(.flashBackwardDelta, .bf16, grid: ((rows + 7) / 8, 1), block: 256, [
                .pointer(address(delta, op)), .pointer(address(output, op)), .pointer(address(gradOutput, op)),
                .long(rows), .int(headDim),
            ])
            let common: [KernelArgument] = try [
                .pointer(address(query, op)), .pointer(address(key, op)), .pointer(address(value, op)),
                .pointer(address(logSumExp, op)), .pointer(address(delta, op)), .pointer(address(gradOutput, op)),
                .pointer(address(sequenceStarts, op)), .pointer(address(tileStarts, op)), .int(size.sequences),
                .int(size.queryHeads), .int(size.keyValueHeads), .int(window), .float32(scale),
            ]
            let partialAddresses: [KernelArgument] = try partials.isEmpty
                ? [.pointer(0), .pointer(0)] : partials.map { .pointer(try address($0, op)) }
            try launch(.flashBackwardKeyValue(headDim), .bf16, grid: (tiles, size.queryHeads),
                       block: FlashAttention.threads,
                       sharedBytes: FlashAttention.keyValueGradientSharedBytes(headDim: headDim),
                       [.pointer(address(gradKey, op)), .pointer(address(gradValue, op))] + partialAddresses + common)
            if !partials.isEmpty {
                try launchElementwise(.flashReduceGroups, .bf16, count: gradKey.count, [
                    .pointer(address(gradKey, op)), .pointer(address(gradValue, op)),
                    .pointer(address(partials[0], op)), .pointer(address(partials[1], op)), .long(gradKey.count),
                    .int(group), .int(headDim),
                ])
            }
            try launch(.flashBackwardQuery(headDim), .bf16, grid: (tiles, size.queryHeads),
                       block: FlashAttention.threads,
                       sharedBytes: FlashAttention.queryGradientSharedBytes(headDim: headDim),
                       [.pointer(address(gradQuery, op))] + common)
        }
    }

    /// bf16 attention for a head dimension without a tensor-core kernel (the tiny test models' 8 or 16): the inputs
    /// widened to f32, the f32 kernels, the output narrowed back. Slow but exact to the f32 path.
    func attentionThroughF32(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor, slidingWindow: Int?,
                             scale: Float, out: Tensor, logSumExp: Tensor?) throws {
        let (q, k, v) = try (widened(query), widened(key), widened(value))
        let wide = try allocate(shape: out.shape, dtype: .f32, zeroed: false)
        try attention(query: q, key: k, value: v, sequenceStarts: sequenceStarts, slidingWindow: slidingWindow,
                      scale: scale, into: wide, logSumExp: logSumExp)
        try cast(wide, to: out)
        withExtendedLifetime((q, k, v, wide)) {}
    }

    func attentionBackwardThroughF32(query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                                     gradOutput: Tensor, sequenceStarts: Tensor, slidingWindow: Int?, scale: Float,
                                     gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor) throws {
        let inputs = try [query, key, value, output, gradOutput].map(widened)
        let grads = try [gradQuery, gradKey, gradValue].map {
            try allocate(shape: $0.shape, dtype: .f32, zeroed: false)
        }
        try attentionBackward(query: inputs[0], key: inputs[1], value: inputs[2], output: inputs[3],
                              logSumExp: logSumExp, gradOutput: inputs[4], sequenceStarts: sequenceStarts,
                              slidingWindow: slidingWindow, scale: scale, into: grads[0], gradKey: grads[1],
                              gradValue: grads[2])
        for (wide, narrow) in zip(grads, [gradQuery, gradKey, gradValue]) { try cast(wide, to: narrow) }
        withExtendedLifetime((inputs, grads)) {}
    }

    /// An f32 copy of `tensor`.
    private func widened(_ tensor: Tensor) throws -> Tensor {
        let wide = try allocate(shape: tensor.shape, dtype: .f32, zeroed: false)
        try cast(tensor, to: wide)
        return wide
    }

    /// tileStarts (S + 1) i32 on the device: the first tile of each sequence (`flash_tile_starts`).
    private func flashTileStarts(_ sequenceStarts: Tensor, sequences: Int, _ op: String) throws -> Tensor {
        let tileStarts = try allocate(shape: [sequences + 1], dtype: .i32, zeroed: false)
        try launch(.flashTileStarts, nil, grid: (1, 1), block: 1024, [
            .pointer(address(tileStarts, op)), .pointer(address(sequenceStarts, op)), .int(sequences),
        ])
        return tileStarts
    }

    /// The head dimension when a tensor-core kernel exists for it.
    private func flashHeadDim(_ size: OpCheck.AttentionShape, _ op: String, query: Tensor) throws -> Int {
        guard FlashAttention.headDims.contains(size.headDim) else {
            throw TensorError.unsupported(
                op: "\(op) in bf16 with head dimension \(size.headDim) (query \(query.shape))", backend: name,
                hint: "bf16 attention has tensor-core kernels for head dimensions \(FlashAttention.headDims); "
                    + "use float32 for others")
        }
        return size.headDim
    }

    /// The kernels read and write rows in 16-byte pieces: every tensor must start 16-byte aligned.
    private func flashAligned(_ op: String, _ tensors: [(Tensor, String)]) throws {
        for (tensor, argument) in tensors where try address(tensor, op) % 16 != 0 {
            throw TensorError.unsupported(op: "\(op) \(argument) view at byte offset \(tensor.byteOffset)",
                                          backend: name, hint: "bf16 attention needs 16-byte aligned tensors")
        }
    }
}
