import SwiftTuneTensor

/// One GPU's primary context and the single stream every operation is queued on.
///
/// Storage holds a strong reference, so the stream outlives every allocation that is freed on it. Every entry point
/// calls `makeCurrent()` first, because Swift may run a call on any thread and a CUDA context is per-thread state.
final class CUDAContext: @unchecked Sendable {
    let driver: CUDADriver
    let ordinal: Int
    let device: CUdevice
    let context: CUcontext
    let stream: CUstream
    /// The GPU's name, e.g. `NVIDIA H200`.
    let deviceName: String
    /// Compute capability, e.g. (9, 0) on H100/H200.
    let computeCapability: (major: Int32, minor: Int32)
    /// The device's default stream-ordered pool, which `cuMemAllocAsync` allocates from (nil if it was not found).
    let pool: CUmemoryPool?

    init(driver: CUDADriver, ordinal: Int) throws {
        self.driver = driver
        self.ordinal = ordinal
        try driver.check(driver.cuInit(0), "cuInit")
        var count: Int32 = 0
        try driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard ordinal >= 0, ordinal < Int(count) else {
            throw CUDAError.unsupportedDevice("GPU \(ordinal) requested but \(count) visible (CUDA_VISIBLE_DEVICES)")
        }
        var device: CUdevice = 0
        try driver.check(driver.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        self.device = device

        var nameBuffer = [CChar](repeating: 0, count: 256)
        try driver.check(driver.cuDeviceGetName(&nameBuffer, Int32(nameBuffer.count), device), "cuDeviceGetName")
        deviceName = String(decoding: nameBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)

        var major: Int32 = 0, minor: Int32 = 0, pools: Int32 = 0
        try driver.check(driver.cuDeviceGetAttribute(&major, CUDADriver.attributeComputeCapabilityMajor, device),
                         "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)")
        try driver.check(driver.cuDeviceGetAttribute(&minor, CUDADriver.attributeComputeCapabilityMinor, device),
                         "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MINOR)")
        try driver.check(driver.cuDeviceGetAttribute(&pools, CUDADriver.attributeMemoryPoolsSupported, device),
                         "cuDeviceGetAttribute(MEMORY_POOLS_SUPPORTED)")
        computeCapability = (major, minor)
        guard pools != 0 else {
            throw CUDAError.unsupportedDevice("\(deviceName) does not support stream-ordered memory pools")
        }

        var context: CUcontext?
        try driver.check(driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        guard let context else { throw CUDAError.unsupportedDevice("cuDevicePrimaryCtxRetain returned no context") }
        self.context = context
        do {
            try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
            var stream: CUstream?
            try driver.check(driver.cuStreamCreate(&stream, CUDADriver.streamNonBlocking), "cuStreamCreate")
            guard let stream else { throw CUDAError.unsupportedDevice("cuStreamCreate returned no stream") }
            self.stream = stream
        } catch {
            _ = driver.cuDevicePrimaryCtxRelease(device)
            throw error
        }
        // Keep freed blocks in the pool across synchronizations instead of returning them to the driver each time.
        var pool: CUmemoryPool?
        if driver.cuDeviceGetDefaultMemPool(&pool, device) == 0, let pool {
            var threshold = UInt64.max
            _ = driver.cuMemPoolSetAttribute(pool, CUDADriver.memoryPoolReleaseThreshold, &threshold)
        }
        self.pool = pool
    }

    deinit {
        _ = driver.cuCtxSetCurrent(context)
        _ = driver.cuStreamSynchronize(stream)
        _ = driver.cuStreamDestroy(stream)
        _ = driver.cuDevicePrimaryCtxRelease(device)
    }

    /// Binds the context to the calling thread.
    func makeCurrent() throws {
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    /// `byteCount` bytes from the stream-ordered pool (0 for an empty allocation).
    ///
    /// When the GPU is out of memory, the pool's unused blocks are given back to the driver (after the queued work
    /// is done) and the allocation is tried once more; if that fails too, `CUDAError.outOfMemory` says how much was
    /// asked for and what was free.
    func allocate(byteCount: Int) throws -> CUdeviceptr {
        guard byteCount > 0 else { return 0 }
        var address: CUdeviceptr = 0
        var result = driver.cuMemAllocAsync(&address, byteCount, stream)
        if result == CUDADriver.errorOutOfMemory, let pool {
            try synchronize()
            _ = driver.cuMemPoolTrimTo(pool, 0)
            result = driver.cuMemAllocAsync(&address, byteCount, stream)
        }
        if result == CUDADriver.errorOutOfMemory {
            var free = 0, total = 0
            let known = driver.cuMemGetInfo(&free, &total) == 0
            throw CUDAError.outOfMemory(device: "\(deviceName) (GPU \(ordinal))", requested: byteCount,
                                        free: known ? free : nil, total: known ? total : nil,
                                        inUse: poolAttribute(CUDADriver.memoryPoolUsedMemoryCurrent))
        }
        try driver.check(result, "cuMemAllocAsync(\(byteCount) bytes)")
        return address
    }

    /// The most bytes the pool had handed out at once since `resetPeakMemory()` (at least what it holds now), or
    /// nil when the pool cannot say. Counts every tensor and the cuBLASLt workspace, not the context or the modules.
    var peakMemoryBytes: Int? {
        guard let high = poolAttribute(CUDADriver.memoryPoolUsedMemoryHigh) else { return nil }
        return max(high, poolAttribute(CUDADriver.memoryPoolUsedMemoryCurrent) ?? 0)
    }

    /// Starts a new high-water mark for `peakMemoryBytes` (the driver only resets it to 0).
    func resetPeakMemory() {
        guard let pool else { return }
        var zero: UInt64 = 0
        _ = driver.cuMemPoolSetAttribute(pool, CUDADriver.memoryPoolUsedMemoryHigh, &zero)
    }

    private func poolAttribute(_ attribute: Int32) -> Int? {
        guard let pool else { return nil }
        var value: UInt64 = 0
        guard driver.cuMemPoolGetAttribute(pool, attribute, &value) == 0 else { return nil }
        return Int(clamping: value)
    }

    /// Waits for everything queued on the stream.
    func synchronize() throws {
        try driver.check(driver.cuStreamSynchronize(stream), "cuStreamSynchronize")
    }
}

/// GPU memory from the stream-ordered pool, returned with `cuMemFreeAsync` when the last tensor viewing it goes away.
public final class CUDAStorage: DeviceStorage, @unchecked Sendable {
    public let byteCount: Int
    /// The device address of the first byte (0 for an empty allocation).
    public let address: UInt64
    /// Pinned host memory the GPU reads through unified addressing (`address` is the same pointer), for tensors
    /// kept off the device (`Backend.allocateInHostMemory`); nil for device memory from the pool.
    let host: UnsafeMutableRawPointer?
    let context: CUDAContext

    init(byteCount: Int, context: CUDAContext) throws {
        self.byteCount = byteCount
        self.context = context
        address = try context.allocate(byteCount: byteCount)
        host = nil
    }

    /// Page-locked host memory (`cuMemAllocHost`): with unified addressing, kernels dereference its host pointer.
    init(hostByteCount byteCount: Int, context: CUDAContext) throws {
        self.byteCount = byteCount
        self.context = context
        var memory: UnsafeMutableRawPointer?
        try context.driver.check(context.driver.cuMemAllocHost(&memory, max(byteCount, 1)),
                                 "cuMemAllocHost(\(byteCount) bytes)")
        guard let memory else { throw CUDAError.unsupportedDevice("cuMemAllocHost returned no memory") }
        host = memory
        address = UInt64(UInt(bitPattern: memory))
    }

    deinit {
        _ = context.driver.cuCtxSetCurrent(context.context)
        if let host {
            // Kernels queued so far may still read it.
            _ = context.driver.cuStreamSynchronize(context.stream)
            _ = context.driver.cuMemFreeHost(host)
            return
        }
        guard address != 0 else { return }
        // Stream-ordered: the block returns to the pool after every op queued so far that may still read it.
        _ = context.driver.cuMemFreeAsync(address, context.stream)
    }
}
