import SwiftTuneTensor

extension KernelFunction {
    /// `elementwise.cu`.
    static let elementwiseFunctions: [KernelFunction] = [
        add, scale, scaleByScalar, addBias, sumRows, sumRowsIntoStorage, sumOfSquares, swiglu, swigluBackward,
    ]
    static let add = KernelFunction(.elementwise, "add", dtypes: [.f32, .bf16])
    static let scale = KernelFunction(.elementwise, "scale", dtypes: [.f32, .bf16])
    static let scaleByScalar = KernelFunction(.elementwise, "scale_by_scalar", dtypes: [.f32, .bf16])
    static let addBias = KernelFunction(.elementwise, "add_bias", dtypes: [.f32, .bf16])
    /// x in its storage dtype, out f32.
    static let sumRows = KernelFunction(.elementwise, "sum_rows", dtypes: [.f32, .bf16])
    /// x and out in one 16-bit storage dtype.
    static let sumRowsIntoStorage = KernelFunction(.elementwise, "sum_rows_into", dtypes: [.bf16])
    /// x in its storage dtype, out f32.
    static let sumOfSquares = KernelFunction(.elementwise, "sum_of_squares", dtypes: [.f32, .bf16])
    static let swiglu = KernelFunction(.elementwise, "swiglu", dtypes: [.f32, .bf16])
    static let swigluBackward = KernelFunction(.elementwise, "swiglu_backward", dtypes: [.f32, .bf16])

    /// The kernel of an op with a gradient accumulator: `f32` for an f32 accumulator whatever the storage, else
    /// `intoStorage`, which accumulates in the storage dtype itself (`OpCheck.accumulator` allows only these two).
    static func accumulating(_ f32: KernelFunction, _ intoStorage: KernelFunction, storage: DType,
                             accumulator: DType) -> KernelFunction {
        accumulator == .f32 || storage == .f32 ? f32 : intoStorage
    }
}

/// Elementwise ops, reductions and SwiGLU. Semantics are the `Backend` protocol's; kernels are in `elementwise.cu`, in
/// f32 and bf16 storage (f32 math), each picked by its tensors' dtype.
extension CUDABackend {
    public func add(_ a: Tensor, _ b: Tensor, scale: Float, into out: Tensor) throws {
        let op = "add"
        try OpCheck.add(a, b, out: out)
        try context.makeCurrent()
        try launchElementwise(.add, a.dtype, count: a.count, [
            .pointer(address(out, op)), .pointer(address(a, op)), .pointer(address(b, op)), .float32(scale),
            .long(a.count),
        ])
    }

    public func scale(_ x: Tensor, by factor: Float, into out: Tensor) throws {
        let op = "scale"
        try OpCheck.scale(x, out: out)
        try context.makeCurrent()
        try launchElementwise(.scale, x.dtype, count: x.count, [
            .pointer(address(out, op)), .pointer(address(x, op)), .float32(factor), .long(x.count),
        ])
    }

    public func scale(_ x: Tensor, byDeviceScalar factor: Tensor, into out: Tensor) throws {
        let op = "scaleByDeviceScalar"
        try OpCheck.scaleByDeviceScalar(x, factor: factor, out: out)
        try context.makeCurrent()
        try launchElementwise(.scaleByScalar, x.dtype, count: x.count, [
            .pointer(address(out, op)), .pointer(address(x, op)), .pointer(address(factor, op)), .long(x.count),
        ])
    }

    public func addBias(_ x: Tensor, bias: Tensor, into out: Tensor) throws {
        let op = "addBias"
        let size = try OpCheck.addBias(x, bias: bias, out: out)
        try KernelLimits.fitsInt32([size.columns], op, x.shape)
        try context.makeCurrent()
        try launchElementwise(.addBias, x.dtype, count: x.count, [
            .pointer(address(out, op)), .pointer(address(x, op)), .pointer(address(bias, op)), .long(size.rows),
            .int(size.columns),
        ])
    }

    public func sumRows(_ x: Tensor, into out: Tensor, accumulate: Bool) throws {
        let op = "sumRows"
        let size = try OpCheck.sumRows(x, out: out)
        try KernelLimits.fitsInt32([size.columns], op, x.shape)
        guard size.columns > 0 else { return }
        try context.makeCurrent()
        let block = 256
        let function = KernelFunction.accumulating(.sumRows, .sumRowsIntoStorage, storage: x.dtype, accumulator: out.dtype)
        try launch(function, x.dtype, grid: ((size.columns + block - 1) / block, 1), block: block, [
            .pointer(address(out, op)), .pointer(address(x, op)), .long(size.rows), .int(size.columns),
            .flag(accumulate),
        ])
    }

    public func sumOfSquares(_ x: Tensor, into out: Tensor, accumulate: Bool) throws {
        let op = "sumOfSquares"
        try OpCheck.sumOfSquares(x, out: out)
        try context.makeCurrent()
        let target = try address(out, op)
        if !accumulate {
            try driverCheck(context.driver.cuMemsetD32Async(target, 0, 1, context.stream), "cuMemsetD32Async")
        }
        // Each block adds its partial sum with atomicAdd, so the order of the final additions may vary run to run.
        guard x.count > 0 else { return }
        let block = Self.elementwiseBlock
        let blocks = min((x.count + block - 1) / block, 1024)
        try launch(.sumOfSquares, x.dtype, grid: (blocks, 1), block: block, [
            .pointer(target), .pointer(address(x, op)), .long(x.count),
        ])
    }

    public func swiglu(gate: Tensor, up: Tensor, into out: Tensor) throws {
        let op = "swiglu"
        try OpCheck.swiglu(gate: gate, up: up, out: out)
        try context.makeCurrent()
        try launchElementwise(.swiglu, gate.dtype, count: gate.count, [
            .pointer(address(out, op)), .pointer(address(gate, op)), .pointer(address(up, op)), .long(gate.count),
        ])
    }

    public func swigluBackward(gate: Tensor, up: Tensor, gradOutput: Tensor,
                               into gradGate: Tensor, gradUp: Tensor) throws {
        let op = "swigluBackward"
        try OpCheck.swigluBackward(gate: gate, up: up, gradOutput: gradOutput, gradGate: gradGate, gradUp: gradUp)
        try context.makeCurrent()
        try launchElementwise(.swigluBackward, gate.dtype, count: gate.count, [
            .pointer(address(gradGate, op)), .pointer(address(gradUp, op)), .pointer(address(gate, op)),
            .pointer(address(up, op)), .pointer(address(gradOutput, op)), .long(gate.count),
        ])
    }
}
