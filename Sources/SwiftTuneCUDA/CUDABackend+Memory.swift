import SwiftTuneTensor

extension KernelFunction {
    /// `memory.cu`.
    static let memoryFunctions: [KernelFunction] = [fill, castFloat]
    /// `out[i] = value` for f64 tensors (f32 and 16-bit fills are driver memsets).
    static let fill = KernelFunction(.memory, "fill", dtypes: [.f64])
    /// Conversion between float storage types, taking the type codes (`CUDABackend.castCode`) as arguments.
    static let castFloat = KernelFunction(.memory, "cast_float")
}

/// Memory: allocation from the stream-ordered pool, copies, fills and casts. Semantics are the `Backend` protocol's.
extension CUDABackend {
    /// The stream-ordered pool's high-water mark of bytes handed out (tensors and the cuBLASLt workspace) since
    /// `resetPeakMemory()`: the device peak `memory(GiB)` reports, like PyTorch's `max_memory_allocated`.
    public var peakMemoryBytes: Int? { context.peakMemoryBytes }

    public func resetPeakMemory() { context.resetPeakMemory() }

    /// - Throws: `CUDAError.outOfMemory` (what was asked for and what was free) when the GPU is full.
    public func allocate(shape: [Int], dtype: DType, zeroed: Bool) throws -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape(shape, reason: "dimensions must be non-negative")
        }
        try context.makeCurrent()
        let byteCount = shape.reduce(1, *) * dtype.byteSize
        let storage = try CUDAStorage(byteCount: byteCount, context: context)
        if zeroed, byteCount > 0 {
            try driverCheck(context.driver.cuMemsetD8Async(storage.address, 0, byteCount, context.stream),
                            "cuMemsetD8Async")
        }
        return try Tensor(storage: storage, backend: self, shape: shape, dtype: dtype)
    }

    /// Pinned host memory that kernels read in place over PCIe (unified addressing): an offloaded embedding table,
    /// of which a step reads only its tokens' rows. cuBLASLt products should not read it.
    public func allocateInHostMemory(shape: [Int], dtype: DType) throws -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape(shape, reason: "dimensions must be non-negative")
        }
        try context.makeCurrent()
        let storage = try CUDAStorage(hostByteCount: shape.reduce(1, *) * dtype.byteSize, context: context)
        return try Tensor(storage: storage, backend: self, shape: shape, dtype: dtype)
    }

    /// The pinned host bytes of a tensor allocated by `allocateInHostMemory`, nil for device memory.
    func hostBytes(_ tensor: Tensor) -> UnsafeMutableRawPointer? {
        (tensor.storage as? CUDAStorage)?.host.map { $0 + tensor.byteOffset }
    }

    /// Copies `bytes` into `tensor`. The caller's buffer may be reused as soon as this returns, on every backend.
    ///
    /// Up to `HostStaging.segmentBytes` (1 MiB: a step's scalars, token ids, positions, block tables) the bytes are
    /// copied into pinned host memory and the device copy is queued behind the work already on the stream, without
    /// waiting for it; the copy lands before any op queued after this call. A larger upload (weights at load time)
    /// copies straight from the caller's buffer and waits until that copy, and so all queued work, is done.
    public func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) throws {
        guard bytes.count == tensor.byteCount else {
            throw TensorError.shapeMismatch(op: "upload", expected: "\(bytes.count) bytes", got: tensor.shape)
        }
        guard bytes.count > 0 else { return }
        try context.makeCurrent()
        if let host = hostBytes(tensor) {
            try context.synchronize()  // queued kernels may still read it
            host.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            return
        }
        let destination = try address(tensor, "upload")
        if try staging.stage(bytes, to: destination) { return }
        try driverCheck(context.driver.cuMemcpyHtoDAsync(destination, bytes.baseAddress, bytes.count, context.stream),
                        "cuMemcpyHtoDAsync(\(bytes.count) bytes)")
        // The caller's buffer is only valid during this call: wait until the copy has read it.
        try context.synchronize()
    }

    public func download(_ tensor: Tensor, to bytes: UnsafeMutableRawBufferPointer) throws {
        guard bytes.count == tensor.byteCount else {
            throw TensorError.shapeMismatch(op: "download", expected: "\(bytes.count) bytes", got: tensor.shape)
        }
        try context.makeCurrent()
        if let host = hostBytes(tensor) {
            try context.synchronize()
            bytes.baseAddress?.copyMemory(from: host, byteCount: bytes.count)
            return
        }
        if bytes.count > 0 {
            let source = try address(tensor, "download")
            try driverCheck(context.driver.cuMemcpyDtoHAsync(bytes.baseAddress, source, bytes.count, context.stream),
                            "cuMemcpyDtoHAsync(\(bytes.count) bytes)")
        }
        try context.synchronize()
    }

    public func copy(_ source: Tensor, to destination: Tensor) throws {
        guard source.dtype == destination.dtype else {
            throw TensorError.dtypeMismatch(op: "copy", expected: "\(destination.dtype)", got: source.dtype)
        }
        guard source.count == destination.count else {
            throw TensorError.shapeMismatch(op: "copy", expected: "\(destination.shape)", got: source.shape)
        }
        guard source.byteCount > 0 else { return }
        try context.makeCurrent()
        let from = try address(source, "copy"), to = try address(destination, "copy")
        if let host = hostBytes(destination) {
            if let sourceHost = hostBytes(source) {
                try context.synchronize()
                host.copyMemory(from: sourceHost, byteCount: source.byteCount)
            } else {
                try driverCheck(context.driver.cuMemcpyDtoHAsync(host, from, source.byteCount, context.stream),
                                "cuMemcpyDtoHAsync(\(source.byteCount) bytes)")
                try context.synchronize()
            }
            return
        }
        if let sourceHost = hostBytes(source) {
            try driverCheck(context.driver.cuMemcpyHtoDAsync(to, sourceHost, source.byteCount, context.stream),
                            "cuMemcpyHtoDAsync(\(source.byteCount) bytes)")
            try context.synchronize()
            return
        }
        try driverCheck(context.driver.cuMemcpyDtoDAsync(to, from, source.byteCount, context.stream),
                        "cuMemcpyDtoDAsync(\(source.byteCount) bytes)")
    }

    public func fill(_ tensor: Tensor, with value: Float) throws {
        guard tensor.dtype.isFloatingPoint else {
            throw TensorError.dtypeMismatch(op: "fill", expected: "a float dtype", got: tensor.dtype)
        }
        guard tensor.count > 0 else { return }
        try context.makeCurrent()
        let target = try address(tensor, "fill"), count = tensor.count, stream = context.stream
        switch tensor.dtype {
        case .f32:
            try driverCheck(context.driver.cuMemsetD32Async(target, value.bitPattern, count, stream), "cuMemsetD32Async")
        case .bf16:
            try driverCheck(context.driver.cuMemsetD16Async(target, FloatBits.bf16(from: value), count, stream),
                            "cuMemsetD16Async")
        case .f16:
            try driverCheck(context.driver.cuMemsetD16Async(target, FloatBits.f16(from: value), count, stream),
                            "cuMemsetD16Async")
        default:
            try launchElementwise(.fill, .f64, count: count, [.pointer(target), .float64(Double(value)), .long(count)])
        }
    }

    /// The `type` codes of `cast_float` in memory.cu.
    static func castCode(_ dtype: DType) -> Int32? {
        switch dtype {
        case .f32: 0
        case .f64: 1
        case .bf16: 2
        case .f16: 3
        case .i32, .i64, .u8: nil
        }
    }

    public func cast(_ source: Tensor, to destination: Tensor) throws {
        guard source.count == destination.count else {
            throw TensorError.shapeMismatch(op: "cast", expected: "\(destination.shape)", got: source.shape)
        }
        guard let sourceCode = Self.castCode(source.dtype) else {
            throw TensorError.dtypeMismatch(op: "cast", expected: "a float source", got: source.dtype)
        }
        guard let destinationCode = Self.castCode(destination.dtype) else {
            throw TensorError.dtypeMismatch(op: "cast", expected: "a float destination", got: destination.dtype)
        }
        if source.dtype == destination.dtype { return try copy(source, to: destination) }
        guard source.count > 0 else { return }
        try context.makeCurrent()
        try launchElementwise(.castFloat, nil, count: source.count, [
            .pointer(try address(source, "cast")), .int32(sourceCode),
            .pointer(try address(destination, "cast")), .int32(destinationCode), .long(source.count),
        ])
    }
}
