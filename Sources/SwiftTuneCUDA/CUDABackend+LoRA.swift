import SwiftTuneTensor

extension KernelFunction {
    /// `lora.cu`: per rank, `lora_down_r<R>`, `lora_input_gradient_r<R>`, `lora_down_gradient_r<R>`.
    static let loraFunctions: [KernelFunction] =
        loraRanks.flatMap { [loraDown($0), loraInputGradient($0), loraDownGradient($0)] } + [loraDownGradientReduce]
    /// The ranks with fused kernels; others compose dropout and matmul (`LoRAReference`).
    static let loraRanks = [4, 8, 16, 32]
    static func loraDown(_ rank: Int) -> KernelFunction { KernelFunction(.lora, "lora_down_r\(rank)", dtypes: [.f32, .bf16]) }
    static func loraInputGradient(_ rank: Int) -> KernelFunction {
        KernelFunction(.lora, "lora_input_gradient_r\(rank)", dtypes: [.f32, .bf16])
    }
    static func loraDownGradient(_ rank: Int) -> KernelFunction {
        KernelFunction(.lora, "lora_down_gradient_r\(rank)", dtypes: [.f32, .bf16])
    }
    static let loraDownGradientReduce = KernelFunction(.lora, "lora_down_gradient_reduce")
}

/// LoRA's side path under dropout in fused kernels that regenerate the mask instead of storing `dropout(x)`:
/// `loraDown` reads x once (was: dropout's read and write, then the GEMM's read), `loraInputGradient` reads and writes
/// dx once (was: a GEMM writing `du·A`, dropout over it, an add), `loraDownGradient` reads x once, in row chunks whose
/// f32 partial sums a second launch adds in a fixed order (deterministic). Semantics are the `Backend` protocol's;
/// ranks outside `KernelFunction.loraRanks`, an odd `in` or an unaligned tensor use `LoRAReference`.
extension CUDABackend {
    public func loraDown(_ x: Tensor, a: Tensor, probability: Float, seed: UInt64, into u: Tensor) throws {
        let op = "loraDown"
        try OpCheck.loraDown(x, a: a, probability: probability, u: u)
        let (n, width, rank) = (x.shape[0], x.shape[1], a.shape[0])
        guard try fusesLoRA(rank: rank, width: width, [x, a], op) else {
            return try LoRAReference.down(x, a: a, probability: probability, seed: seed, into: u)
        }
        guard n > 0 else { return }
        try context.makeCurrent()
        let rows = rank <= 16 ? 4 : 2  // LoRARows in lora.cu
        try launch(.loraDown(rank), x.dtype, grid: ((n + rows - 1) / rows, 1), block: 256, [
            .pointer(address(u, op)), .pointer(address(x, op)), .pointer(address(a, op)), .int(n), .int(width),
        ] + dropoutArguments(probability: probability, seed: seed))
    }

    public func loraDownGradient(_ du: Tensor, x: Tensor, probability: Float, seed: UInt64,
                                 accumulateInto dA: Tensor) throws {
        let op = "loraDownGradient"
        try OpCheck.loraDownGradient(du, x: x, probability: probability, dA: dA)
        let (n, width, rank) = (x.shape[0], x.shape[1], du.shape[1])
        guard try fusesLoRA(rank: rank, width: width, [x, du], op) else {
            return try LoRAReference.downGradient(du, x: x, probability: probability, seed: seed, accumulateInto: dA)
        }
        guard n > 0 else { return }
        try context.makeCurrent()
        // Row chunks of at least 256 rows, at most 16: enough blocks to keep the card's memory busy.
        let chunks = min(16, max(1, n / 256)), chunk = (n + chunks - 1) / chunks
        let partial = try empty([chunks, rank, width], dtype: .f32)
        try launch(.loraDownGradient(rank), x.dtype, grid: ((width + 63) / 64, chunks), block: 256, [
            .pointer(address(partial, op)), .pointer(address(du, op)), .pointer(address(x, op)), .int(n), .int(width),
            .int(chunk),
        ] + dropoutArguments(probability: probability, seed: seed))
        try launchElementwise(.loraDownGradientReduce, nil, count: rank * width, [
            .pointer(address(dA, op)), .pointer(address(partial, op)), .int(chunks), .long(rank * width),
        ])
    }

    public func loraInputGradient(_ du: Tensor, a: Tensor, probability: Float, seed: UInt64,
                                  accumulateInto dx: Tensor) throws {
        let op = "loraInputGradient"
        try OpCheck.loraInputGradient(du, a: a, probability: probability, dx: dx)
        let (n, width, rank) = (dx.shape[0], dx.shape[1], a.shape[0])
        guard try fusesLoRA(rank: rank, width: width, [dx, a], op) else {
            return try LoRAReference.inputGradient(du, a: a, probability: probability, seed: seed, accumulateInto: dx)
        }
        guard n > 0 else { return }
        try context.makeCurrent()
        let rowsPerThread = 4  // LORA_UP_ROWS in lora.cu
        let pairs = width / 2, block = 128
        try launch(.loraInputGradient(rank), dx.dtype,
                   grid: ((pairs + block - 1) / block, (n + rowsPerThread - 1) / rowsPerThread), block: block, [
            .pointer(address(dx, op)), .pointer(address(du, op)), .pointer(address(a, op)), .int(n), .int(width),
        ] + dropoutArguments(probability: probability, seed: seed))
    }

    /// Whether the fused kernels apply: a rank they are built for, an even row width and pair-aligned rows.
    private func fusesLoRA(rank: Int, width: Int, _ tensors: [Tensor], _ op: String) throws -> Bool {
        guard KernelFunction.loraRanks.contains(rank), width % 2 == 0 else { return false }
        for tensor in tensors where try address(tensor, op) % UInt64(2 * tensor.dtype.byteSize) != 0 { return false }
        return true
    }

    /// seed, threshold and scale as `dropout` passes them.
    private func dropoutArguments(probability: Float, seed: UInt64) -> [KernelArgument] {
        [.int64(Int64(bitPattern: seed)), .int32(Int32(DropoutMask.threshold(probability: probability))),
         .float32(DropoutMask.scale(probability: probability))]
    }
}
