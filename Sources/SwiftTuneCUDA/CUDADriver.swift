/// Handles of the driver API (`cuda.h`): opaque pointers, and `CUdeviceptr` as a 64-bit integer.
typealias CUresult = Int32
typealias CUdevice = Int32
typealias CUdeviceptr = UInt64
typealias CUcontext = OpaquePointer
typealias CUstream = OpaquePointer
typealias CUmodule = OpaquePointer
typealias CUfunction = OpaquePointer
typealias CUmemoryPool = OpaquePointer
typealias CUevent = OpaquePointer

/// The CUDA driver API functions the backend calls, resolved from `libcuda.so.1` with `dlsym`.
///
/// `cuda.h` maps several names to versioned symbols with macros, so the versioned names are resolved here:
/// `cuMemcpyHtoDAsync` → `cuMemcpyHtoDAsync_v2`, `cuMemcpyDtoHAsync` → `_v2`, `cuMemcpyDtoDAsync` → `_v2`,
/// `cuStreamDestroy` → `cuStreamDestroy_v2`, `cuDevicePrimaryCtxRelease` → `cuDevicePrimaryCtxRelease_v2`,
/// `cuMemAllocHost` → `cuMemAllocHost_v2`, `cuEventDestroy` → `cuEventDestroy_v2`, `cuMemGetInfo` → `cuMemGetInfo_v2`.
/// The stream-ordered memset, allocation, module and launch functions have no versioned variant (only `_ptsz` ones
/// for the per-thread default stream, which this backend does not use).
struct CUDADriver: @unchecked Sendable {
    typealias Status = @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> CUresult

    let cuInit: @convention(c) (UInt32) -> CUresult
    let cuDriverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>?) -> CUresult
    let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>?) -> CUresult
    let cuDeviceGet: @convention(c) (UnsafeMutablePointer<CUdevice>?, Int32) -> CUresult
    let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>?, Int32, CUdevice) -> CUresult
    let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, CUdevice) -> CUresult
    let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<CUcontext?>?, CUdevice) -> CUresult
    let cuDevicePrimaryCtxRelease: @convention(c) (CUdevice) -> CUresult
    let cuCtxSetCurrent: @convention(c) (CUcontext?) -> CUresult
    let cuDeviceGetDefaultMemPool: @convention(c) (UnsafeMutablePointer<CUmemoryPool?>?, CUdevice) -> CUresult
    let cuMemPoolSetAttribute: @convention(c) (CUmemoryPool?, Int32, UnsafeMutableRawPointer?) -> CUresult
    let cuMemPoolGetAttribute: @convention(c) (CUmemoryPool?, Int32, UnsafeMutableRawPointer?) -> CUresult
    let cuMemPoolTrimTo: @convention(c) (CUmemoryPool?, Int) -> CUresult
    // cuMemGetInfo(free, total), bytes of the current context's device
    let cuMemGetInfo: @convention(c) (UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int>?) -> CUresult
    let cuStreamCreate: @convention(c) (UnsafeMutablePointer<CUstream?>?, UInt32) -> CUresult
    let cuStreamDestroy: @convention(c) (CUstream?) -> CUresult
    let cuStreamSynchronize: @convention(c) (CUstream?) -> CUresult
    let cuMemAllocAsync: @convention(c) (UnsafeMutablePointer<CUdeviceptr>?, Int, CUstream?) -> CUresult
    let cuMemFreeAsync: @convention(c) (CUdeviceptr, CUstream?) -> CUresult
    let cuMemcpyHtoDAsync: @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int, CUstream?) -> CUresult
    let cuMemcpyDtoHAsync: @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int, CUstream?) -> CUresult
    let cuMemcpyDtoDAsync: @convention(c) (CUdeviceptr, CUdeviceptr, Int, CUstream?) -> CUresult
    let cuMemAllocHost: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int) -> CUresult
    let cuMemFreeHost: @convention(c) (UnsafeMutableRawPointer?) -> CUresult
    let cuEventCreate: @convention(c) (UnsafeMutablePointer<CUevent?>?, UInt32) -> CUresult
    let cuEventRecord: @convention(c) (CUevent?, CUstream?) -> CUresult
    let cuEventSynchronize: @convention(c) (CUevent?) -> CUresult
    let cuEventDestroy: @convention(c) (CUevent?) -> CUresult
    let cuEventElapsedTime: @convention(c) (UnsafeMutablePointer<Float>?, CUevent?, CUevent?) -> CUresult
    // cuFuncSetAttribute(function, CUfunction_attribute, value)
    let cuFuncSetAttribute: @convention(c) (CUfunction?, Int32, Int32) -> CUresult
    let cuMemsetD8Async: @convention(c) (CUdeviceptr, UInt8, Int, CUstream?) -> CUresult
    let cuMemsetD16Async: @convention(c) (CUdeviceptr, UInt16, Int, CUstream?) -> CUresult
    let cuMemsetD32Async: @convention(c) (CUdeviceptr, UInt32, Int, CUstream?) -> CUresult
    let cuModuleLoadData: @convention(c) (UnsafeMutablePointer<CUmodule?>?, UnsafeRawPointer?) -> CUresult
    let cuModuleUnload: @convention(c) (CUmodule?) -> CUresult
    let cuModuleGetFunction: @convention(c) (UnsafeMutablePointer<CUfunction?>?, CUmodule?, UnsafePointer<CChar>?)
        -> CUresult
    // cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, stream, kernelParams, extra)
    let cuLaunchKernel: @convention(c) (
        CUfunction?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, CUstream?,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> CUresult
    let cuGetErrorName: Status
    let cuGetErrorString: Status

    // CUdevice_attribute values (cuda.h).
    static let attributeComputeCapabilityMajor: Int32 = 75
    static let attributeComputeCapabilityMinor: Int32 = 76
    static let attributeMemoryPoolsSupported: Int32 = 115
    // CUmemPool_attribute: CU_MEMPOOL_ATTR_RELEASE_THRESHOLD (uint64_t bytes kept in the pool across synchronizations).
    static let memoryPoolReleaseThreshold: Int32 = 4
    // CU_MEMPOOL_ATTR_USED_MEM_CURRENT and CU_MEMPOOL_ATTR_USED_MEM_HIGH (uint64_t bytes handed out by the pool now and
    // at most since the high mark was last reset to 0).
    static let memoryPoolUsedMemoryCurrent: Int32 = 7
    static let memoryPoolUsedMemoryHigh: Int32 = 8
    // CUDA_ERROR_OUT_OF_MEMORY
    static let errorOutOfMemory: CUresult = 2
    // CU_STREAM_NON_BLOCKING: the stream does not synchronize with the legacy default stream.
    static let streamNonBlocking: UInt32 = 1
    // CU_EVENT_DISABLE_TIMING: an event only for ordering, the cheapest kind.
    static let eventDisableTiming: UInt32 = 2
    // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: dynamic shared memory a launch may ask for beyond 48 KiB.
    static let functionMaxDynamicSharedBytes: Int32 = 8
    // CUDA_ERROR_NO_DEVICE
    static let errorNoDevice: CUresult = 100

    init(_ library: DynamicLibrary) throws {
        cuInit = try library.function("cuInit")
        cuDriverGetVersion = try library.function("cuDriverGetVersion")
        cuDeviceGetCount = try library.function("cuDeviceGetCount")
        cuDeviceGet = try library.function("cuDeviceGet")
        cuDeviceGetAttribute = try library.function("cuDeviceGetAttribute")
        cuDeviceGetName = try library.function("cuDeviceGetName")
        cuDevicePrimaryCtxRetain = try library.function("cuDevicePrimaryCtxRetain")
        cuDevicePrimaryCtxRelease = try library.function("cuDevicePrimaryCtxRelease_v2")
        cuCtxSetCurrent = try library.function("cuCtxSetCurrent")
        cuDeviceGetDefaultMemPool = try library.function("cuDeviceGetDefaultMemPool")
        cuMemPoolSetAttribute = try library.function("cuMemPoolSetAttribute")
        cuMemPoolGetAttribute = try library.function("cuMemPoolGetAttribute")
        cuMemPoolTrimTo = try library.function("cuMemPoolTrimTo")
        cuMemGetInfo = try library.function("cuMemGetInfo_v2")
        cuStreamCreate = try library.function("cuStreamCreate")
        cuStreamDestroy = try library.function("cuStreamDestroy_v2")
        cuStreamSynchronize = try library.function("cuStreamSynchronize")
        cuMemAllocAsync = try library.function("cuMemAllocAsync")
        cuMemFreeAsync = try library.function("cuMemFreeAsync")
        cuMemcpyHtoDAsync = try library.function("cuMemcpyHtoDAsync_v2")
        cuMemcpyDtoHAsync = try library.function("cuMemcpyDtoHAsync_v2")
        cuMemcpyDtoDAsync = try library.function("cuMemcpyDtoDAsync_v2")
        cuMemAllocHost = try library.function("cuMemAllocHost_v2")
        cuMemFreeHost = try library.function("cuMemFreeHost")
        cuEventCreate = try library.function("cuEventCreate")
        cuEventRecord = try library.function("cuEventRecord")
        cuEventSynchronize = try library.function("cuEventSynchronize")
        cuEventDestroy = try library.function("cuEventDestroy_v2")
        cuEventElapsedTime = try library.function("cuEventElapsedTime")
        cuFuncSetAttribute = try library.function("cuFuncSetAttribute")
        cuMemsetD8Async = try library.function("cuMemsetD8Async")
        cuMemsetD16Async = try library.function("cuMemsetD16Async")
        cuMemsetD32Async = try library.function("cuMemsetD32Async")
        cuModuleLoadData = try library.function("cuModuleLoadData")
        cuModuleUnload = try library.function("cuModuleUnload")
        cuModuleGetFunction = try library.function("cuModuleGetFunction")
        cuLaunchKernel = try library.function("cuLaunchKernel")
        cuGetErrorName = try library.function("cuGetErrorName")
        cuGetErrorString = try library.function("cuGetErrorString")
    }

    /// Throws `CUDAError.driver` naming `call` unless `result` is `CUDA_SUCCESS`.
    func check(_ result: CUresult, _ call: @autoclosure () -> String) throws {
        guard result != 0 else { return }
        throw CUDAError.driver(call: call(), code: result, name: describe(result, with: cuGetErrorName),
                               message: describe(result, with: cuGetErrorString))
    }

    private func describe(_ result: CUresult, with function: Status) -> String {
        var text: UnsafePointer<CChar>?
        guard function(result, &text) == 0, let text else { return "unknown CUresult" }
        return String(cString: text)
    }
}
