import Foundation
import SwiftTuneTensor

/// The CUDA backend: one GPU, one stream, memory from the stream-ordered pool, kernels from `Kernels/<module>.cu`
/// compiled by NVRTC module by module on first use (`KernelLibrary`), and matrix products through cuBLASLt.
///
/// Nothing from CUDA is linked at build time: `init` loads `libcuda.so.1`, `libnvrtc.so.13` and `libcublasLt.so.13`
/// with `dlopen` (see `CUDALibraries`) and throws a `CUDAError` that lists what it searched when one is missing.
/// Ops are queued on the stream and return at once; `download` and `synchronize` wait, and so does an `upload` of
/// more than `HostStaging.segmentBytes` (smaller ones are staged through pinned memory). Errors from a kernel that
/// failed while running surface at the next call that waits.
///
/// The ops are in `CUDABackend+<Family>.swift`, one file per kernel module, named as the CPU backend's files; each
/// checks its arguments with the shared `OpCheck` (and `KernelLimits` for what only these kernels limit).
public final class CUDABackend: Backend, @unchecked Sendable {
    /// `cuda:<ordinal>`.
    public let name: String
    /// The GPU's name, e.g. `NVIDIA H200`.
    public var deviceName: String { context.deviceName }
    /// The architecture kernels are compiled for, e.g. `sm_90`.
    public var architecture: String { kernels.architecture }
    /// NVRTC's version, e.g. `13.0`.
    public var nvrtcVersion: String { "\(nvrtc.version.major).\(nvrtc.version.minor)" }
    /// The library paths that were loaded (driver, NVRTC, cuBLASLt).
    public let libraryPaths: [String]

    let context: CUDAContext
    let nvrtc: NVRTC
    let blas: CuBLASLt
    let kernels: KernelLibrary
    let staging: HostStaging
    /// GPU time per kernel when `SWIFT_TUNE_CUDA_PROFILE` is set (`CUDAProfiler`).
    let profiler: CUDAProfiler?

    /// Opens GPU `ordinal` (default 0).
    /// - Throws: `CUDAError` when a library, the driver or the GPU is missing, naming what was searched.
    public init(device ordinal: Int = 0) throws {
        let environment = CUDALibraries.currentEnvironment()
        let libraries = try CUDALibraries.load(environment: environment)
        let driver = try CUDADriver(libraries.driver)
        nvrtc = try NVRTC(libraries.nvrtc)
        context = try CUDAContext(driver: driver, ordinal: ordinal)
        blas = try CuBLASLt(libraries.cublasLt, context: context)
        staging = try HostStaging(context: context)
        name = "cuda:\(ordinal)"
        libraryPaths = [libraries.driver.path, libraries.nvrtc.path, libraries.cublasLt.path]
        kernels = KernelLibrary(context: context, nvrtc: nvrtc,
                                cache: KernelCache(directory: KernelCache.defaultDirectory(environment: environment)))
        profiler = CUDAProfiler.make(context: context, environment: environment)
    }

    deinit {
        profiler?.report()
        _ = context.driver.cuCtxSetCurrent(context.context)
        _ = context.driver.cuStreamSynchronize(context.stream)
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

    /// The device address of an optional output, 0 (the kernels' "not given") when absent.
    func address(_ tensor: Tensor?, _ op: String) throws -> CUdeviceptr {
        try tensor.map { try address($0, op) } ?? 0
    }

    func driverCheck(_ result: CUresult, _ call: @autoclosure () -> String) throws {
        try context.driver.check(result, call())
    }

    // MARK: Kernels

    /// Queues `function`'s `dtype` instantiation on the stream with a `grid` of blocks of `block` threads and
    /// `sharedBytes` of dynamic shared memory (above 48 KiB the function's limit is raised first).
    func launch(_ function: KernelFunction, _ dtype: DType?, grid: (x: Int, y: Int), block: Int, sharedBytes: Int = 0,
                _ arguments: [KernelArgument]) throws {
        let kernel = try function.kernel(dtype)
        let handle = try kernels.function(kernel)
        if sharedBytes > 48 * 1024 {
            try driverCheck(context.driver.cuFuncSetAttribute(handle, CUDADriver.functionMaxDynamicSharedBytes,
                                                              Int32(sharedBytes)),
                            "cuFuncSetAttribute(\(kernel), max dynamic shared memory: \(sharedBytes) bytes)")
        }
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
        let queue = {
            pointers.withUnsafeMutableBufferPointer { parameters in
                self.context.driver.cuLaunchKernel(handle, UInt32(grid.x), UInt32(grid.y), 1, UInt32(block), 1, 1,
                                                   UInt32(sharedBytes), self.context.stream, parameters.baseAddress, nil)
            }
        }
        var result: CUresult = 0
        if let profiler { try profiler.measure(kernel.symbol) { result = queue() } } else { result = queue() }
        try driverCheck(result, "cuLaunchKernel(\(kernel), grid: \(grid.x)×\(grid.y), block: \(block), "
                            + "shared: \(sharedBytes))")
    }

    /// Threads per block for grid-stride elementwise kernels.
    static let elementwiseBlock = 256
    /// Threads per block for the one-block-per-row kernels.
    static let rowBlock = 256

    /// Launches a grid-stride kernel over `count` elements (nothing when `count` is 0).
    func launchElementwise(_ function: KernelFunction, _ dtype: DType?, count: Int,
                           _ arguments: [KernelArgument]) throws {
        guard count > 0 else { return }
        let blocks = min((count + Self.elementwiseBlock - 1) / Self.elementwiseBlock, 65_536)
        try launch(function, dtype, grid: (blocks, 1), block: Self.elementwiseBlock, arguments)
    }
}
