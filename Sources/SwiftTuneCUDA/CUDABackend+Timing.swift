/// GPU-side timing with CUDA events, for benchmarks: the time between two events recorded on the backend's stream
/// around the work `body` queues, so host overheads that overlap the GPU's work are not counted.
extension CUDABackend {
    /// Milliseconds the GPU spent on the work `body` queues (one event before, one after, then waits for the second).
    public func timeOnStream(_ body: () throws -> Void) throws -> Double {
        try context.makeCurrent()
        let driver = context.driver
        var start: CUevent?, end: CUevent?
        try driverCheck(driver.cuEventCreate(&start, 0), "cuEventCreate (timing)")
        defer { _ = driver.cuEventDestroy(start) }
        try driverCheck(driver.cuEventCreate(&end, 0), "cuEventCreate (timing)")
        defer { _ = driver.cuEventDestroy(end) }
        try driverCheck(driver.cuEventRecord(start, context.stream), "cuEventRecord")
        try body()
        try context.makeCurrent()
        try driverCheck(driver.cuEventRecord(end, context.stream), "cuEventRecord")
        try driverCheck(driver.cuEventSynchronize(end), "cuEventSynchronize")
        var milliseconds: Float = 0
        try driverCheck(driver.cuEventElapsedTime(&milliseconds, start, end), "cuEventElapsedTime")
        return Double(milliseconds)
    }
}
