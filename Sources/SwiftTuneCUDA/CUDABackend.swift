import Foundation
import SwiftTuneTensor

/// The CUDA backend: one GPU, one stream, memory from the stream-ordered pool, kernels from `Kernels/kernels.cu`
/// compiled by NVRTC on first use, and matrix products through cuBLASLt.
///
/// Nothing from CUDA is linked at build time: `init` loads `libcuda.so.1`, `libnvrtc.so.13` and `libcublasLt.so.13`
/// with `dlopen` (see `CUDALibraries`) and throws a `CUDAError` that lists what it searched when one is missing.
/// Ops are queued on the stream and return at once; `download` and `synchronize` wait. Errors from a kernel that
/// failed while running surface at the next call that waits.
public final class CUDABackend: Backend, @unchecked Sendable {
    /// `cuda:<ordinal>`.
    public let name: String
    /// The GPU's name, e.g. `NVIDIA H200`.
    public var deviceName: String { context.deviceName }
    /// The architecture kernels are compiled for, e.g. `sm_90`.
    public let architecture: String
    /// NVRTC's version, e.g. `13.0`.
    public var nvrtcVersion: String { "\(nvrtc.version.major).\(nvrtc.version.minor)" }
    /// The library paths that were loaded (driver, NVRTC, cuBLASLt).
    public let libraryPaths: [String]

    let context: CUDAContext
    let nvrtc: NVRTC
    let blas: CuBLASLt
    let kernelCache: KernelCache
    /// Guards the lazily loaded module and the cuBLASLt handle.
    private let lock = NSLock()
    private var module: CUmodule?
    private var functions: [Kernel: CUfunction] = [:]

    /// Opens GPU `ordinal` (default 0).
    /// - Throws: `CUDAError` when a library, the driver or the GPU is missing, naming what was searched.
    public init(device ordinal: Int = 0) throws {
        let environment = CUDALibraries.currentEnvironment()
        let libraries = try CUDALibraries.load(environment: environment)
        let driver = try CUDADriver(libraries.driver)
        nvrtc = try NVRTC(libraries.nvrtc)
        context = try CUDAContext(driver: driver, ordinal: ordinal)
        blas = try CuBLASLt(libraries.cublasLt, context: context)
        name = "cuda:\(ordinal)"
        architecture = "sm_\(context.computeCapability.major)\(context.computeCapability.minor)"
        libraryPaths = [libraries.driver.path, libraries.nvrtc.path, libraries.cublasLt.path]
        kernelCache = KernelCache(directory: KernelCache.defaultDirectory(environment: environment))
    }

    deinit {
        _ = context.driver.cuCtxSetCurrent(context.context)
        _ = context.driver.cuStreamSynchronize(context.stream)
        if let module { _ = context.driver.cuModuleUnload(module) }
    }

    // MARK: Memory

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

    public func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) throws {
        guard bytes.count == tensor.byteCount else {
            throw TensorError.shapeMismatch(op: "upload", expected: "\(bytes.count) bytes", got: tensor.shape)
        }
        guard bytes.count > 0 else { return }
        try context.makeCurrent()
        let destination = try address(tensor, "upload")
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
            try launchElementwise(.fillF64, count: count, [.pointer(target), .float64(Double(value)), .long(count)])
        }
    }

    /// The `type` codes of `cast_float` in kernels.cu.
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
        try launchElementwise(.castFloat, count: source.count, [
            .pointer(try address(source, "cast")), .int32(sourceCode),
            .pointer(try address(destination, "cast")), .int32(destinationCode), .long(source.count),
        ])
    }

    public func synchronize() throws {
        try context.makeCurrent()
        try context.synchronize()
    }

    // MARK: Access for ops

    /// The device address of a tensor's first element; the tensor must live on this backend's GPU.
    func address(_ tensor: Tensor, _ op: String) throws -> CUdeviceptr {
        guard let storage = tensor.storage as? CUDAStorage, storage.context === context else {
            throw TensorError.unsupported(op: "\(op) on a \(tensor.backend.name) tensor", backend: name,
                                          hint: "copy it to \(name) first")
        }
        return storage.address + UInt64(tensor.byteOffset)
    }

    func driverCheck(_ result: CUresult, _ call: @autoclosure () -> String) throws {
        try context.driver.check(result, call())
    }

    /// Runs `body` with the cuBLASLt handle held exclusively.
    func withBLAS<R>(_ body: (CuBLASLt) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(blas)
    }

    // MARK: Kernels

    /// Compiler options; `scripts/gpu/compile_kernels_check.py` uses the same.
    static func compilerOptions(architecture: String) -> [String] {
        ["--gpu-architecture=\(architecture)", "--std=c++17"]
    }

    /// The function for `kernel`, compiling (or loading the cached) module on first use.
    func function(_ kernel: Kernel) throws -> CUfunction {
        lock.lock()
        defer { lock.unlock() }
        if let function = functions[kernel] { return function }
        let module = try loadedModule()
        var function: CUfunction?
        try driverCheck(context.driver.cuModuleGetFunction(&function, module, kernel.rawValue),
                        "cuModuleGetFunction(\(kernel.rawValue))")
        guard let function else {
            throw CUDAError.unsupportedDevice("cuModuleGetFunction returned no function for \(kernel.rawValue)")
        }
        functions[kernel] = function
        return function
    }

    /// Loads the module from the disk cache, or compiles it with NVRTC and caches it. Call with `lock` held.
    private func loadedModule() throws -> CUmodule {
        if let module { return module }
        let source = KernelSource.bytes
        let options = Self.compilerOptions(architecture: architecture)
        let fileName = KernelCache.fileName(source: source, architecture: architecture,
                                            nvrtcVersion: nvrtc.version, options: options)
        if let cached = kernelCache.load(fileName) {
            if let module = try? loadModule(cached) {
                self.module = module
                return module
            }
            kernelCache.remove(fileName)  // stale or corrupt: compile again below
        }
        let cubin = try nvrtc.compileToCUBIN(source: source, name: "kernels.cu", architecture: architecture,
                                             options: options)
        let module = try loadModule(cubin)
        kernelCache.store(cubin, as: fileName)
        self.module = module
        return module
    }

    private func loadModule(_ image: [UInt8]) throws -> CUmodule {
        var module: CUmodule?
        try image.withUnsafeBytes { bytes in
            try driverCheck(context.driver.cuModuleLoadData(&module, bytes.baseAddress), "cuModuleLoadData")
        }
        guard let module else { throw CUDAError.unsupportedDevice("cuModuleLoadData returned no module") }
        return module
    }

    /// Queues `kernel` on the stream with a `grid` of blocks of `block` threads.
    func launch(_ kernel: Kernel, grid: (x: Int, y: Int), block: Int, _ arguments: [KernelArgument]) throws {
        let function = try function(kernel)
        let slots = UnsafeMutableRawPointer.allocate(byteCount: 8 * max(arguments.count, 1), alignment: 8)
        defer { slots.deallocate() }
        var pointers: [UnsafeMutableRawPointer?] = []
        for (index, argument) in arguments.enumerated() {
            let slot = slots + 8 * index
            switch argument {
            case let .pointer(value): slot.storeBytes(of: value, as: UInt64.self)
            case let .int32(value): slot.storeBytes(of: value, as: Int32.self)
            case let .int64(value): slot.storeBytes(of: value, as: Int64.self)
            case let .float32(value): slot.storeBytes(of: value, as: Float.self)
            case let .float64(value): slot.storeBytes(of: value, as: Double.self)
            }
            pointers.append(slot)
        }
        let result = pointers.withUnsafeMutableBufferPointer { parameters in
            context.driver.cuLaunchKernel(function, UInt32(grid.x), UInt32(grid.y), 1, UInt32(block), 1, 1, 0,
                                          context.stream, parameters.baseAddress, nil)
        }
        try driverCheck(result, "cuLaunchKernel(\(kernel.rawValue), grid: \(grid.x)×\(grid.y), block: \(block))")
    }

    /// Threads per block for grid-stride elementwise kernels.
    static let elementwiseBlock = 256

    /// Launches a grid-stride kernel over `count` elements (nothing when `count` is 0).
    func launchElementwise(_ kernel: Kernel, count: Int, _ arguments: [KernelArgument]) throws {
        guard count > 0 else { return }
        let blocks = min((count + Self.elementwiseBlock - 1) / Self.elementwiseBlock, 65_536)
        try launch(kernel, grid: (blocks, 1), block: Self.elementwiseBlock, arguments)
    }
}
