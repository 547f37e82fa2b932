import Foundation

/// Page-locked host memory that small uploads go through, so `CUDABackend.upload` need not wait for the GPU.
///
/// A copy from ordinary (pageable) host memory makes the driver wait for the stream before it starts, and the caller's
/// buffer is only valid during the call, so such an upload is a full synchronization: every queued kernel must finish
/// first. An upload of at most `segmentBytes` is instead copied on the host into pinned memory (`cuMemAllocHost`) and
/// queued from there with `cuMemcpyHtoDAsync`; the caller's buffer is free when `stage` returns and the GPU keeps
/// running. The pinned memory is `segmentCount` segments used in turn; an event recorded after the last copy out of a
/// segment tells when it may be overwritten, so reusing one waits only for copies queued a whole cycle earlier.
/// Safe to use from several threads.
final class HostStaging: @unchecked Sendable {
    /// Bytes per segment: the largest upload that is staged (a step's scalars, token ids, block tables, positions).
    static let segmentBytes = 1 << 20
    static let segmentCount = 4

    private let context: CUDAContext
    private let memory: UnsafeMutableRawPointer
    private let events: [CUevent]
    private let lock = NSLock()
    /// Whether an event was recorded for each segment since its last reuse.
    private var recorded: [Bool]
    private var segment = 0
    private var used = 0

    init(context: CUDAContext) throws {
        self.context = context
        try context.makeCurrent()
        var memory: UnsafeMutableRawPointer?
        let bytes = Self.segmentBytes * Self.segmentCount
        try context.driver.check(context.driver.cuMemAllocHost(&memory, bytes), "cuMemAllocHost(\(bytes) bytes)")
        guard let memory else { throw CUDAError.unsupportedDevice("cuMemAllocHost returned no memory") }
        self.memory = memory
        var events: [CUevent] = []
        do {
            for _ in 0..<Self.segmentCount {
                var event: CUevent?
                try context.driver.check(context.driver.cuEventCreate(&event, CUDADriver.eventDisableTiming),
                                         "cuEventCreate")
                guard let event else { throw CUDAError.unsupportedDevice("cuEventCreate returned no event") }
                events.append(event)
            }
        } catch {
            for event in events { _ = context.driver.cuEventDestroy(event) }
            _ = context.driver.cuMemFreeHost(memory)
            throw error
        }
        self.events = events
        recorded = Array(repeating: false, count: Self.segmentCount)
    }

    deinit {
        _ = context.driver.cuCtxSetCurrent(context.context)
        _ = context.driver.cuStreamSynchronize(context.stream)  // no copy may still read the pinned memory
        for event in events { _ = context.driver.cuEventDestroy(event) }
        _ = context.driver.cuMemFreeHost(memory)
    }

    /// Queues a copy of `bytes` to `destination` through the pinned segments and returns true, or returns false
    /// (copying nothing) when `bytes` is larger than a segment. The context must be current.
    func stage(_ bytes: UnsafeRawBufferPointer, to destination: CUdeviceptr) throws -> Bool {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return true }
        guard bytes.count <= Self.segmentBytes else { return false }
        lock.lock()
        defer { lock.unlock() }
        if used + bytes.count > Self.segmentBytes {
            try advance()
        }
        let slot = memory + segment * Self.segmentBytes + used
        slot.copyMemory(from: source, byteCount: bytes.count)
        try context.driver.check(
            context.driver.cuMemcpyHtoDAsync(destination, slot, bytes.count, context.stream),
            "cuMemcpyHtoDAsync(\(bytes.count) bytes, staged)")
        used += (bytes.count + 15) & ~15  // keep every staged copy 16-byte aligned
        return true
    }

    /// Marks the end of the current segment's copies and moves to the next one, waiting until the copies queued out
    /// of it a cycle ago have run. Call with `lock` held.
    private func advance() throws {
        try context.driver.check(context.driver.cuEventRecord(events[segment], context.stream), "cuEventRecord")
        recorded[segment] = true
        segment = (segment + 1) % Self.segmentCount
        if recorded[segment] {
            try context.driver.check(context.driver.cuEventSynchronize(events[segment]), "cuEventSynchronize")
            recorded[segment] = false
        }
        used = 0
    }
}
