import Foundation

/// The compiled kernel modules of one GPU context and the functions found in them.
///
/// A module (`Kernels/<module>.cu` with `common.cuh`) is compiled by NVRTC on the first launch of one of its kernels,
/// or loaded from the disk cache (`KernelCache`, keyed by the module's own hash), so starting the backend compiles
/// nothing and a run that never trains never compiles `training.cu`. Safe to use from several threads.
final class KernelLibrary: @unchecked Sendable {
    let architecture: String
    private let context: CUDAContext
    private let nvrtc: NVRTC
    private let cache: KernelCache
    /// Guards `modules` and `functions`.
    private let lock = NSLock()
    private var modules: [KernelModule: CUmodule] = [:]
    private var functions: [Kernel: CUfunction] = [:]

    init(context: CUDAContext, nvrtc: NVRTC, cache: KernelCache) {
        self.context = context
        self.nvrtc = nvrtc
        self.cache = cache
        architecture = "sm_\(context.computeCapability.major)\(context.computeCapability.minor)"
    }

    deinit {
        _ = context.driver.cuCtxSetCurrent(context.context)
        _ = context.driver.cuStreamSynchronize(context.stream)
        for module in modules.values { _ = context.driver.cuModuleUnload(module) }
    }

    /// Compiler options; `scripts/gpu/compile_kernels_check.py` uses the same.
    static func compilerOptions(architecture: String) -> [String] {
        ["--gpu-architecture=\(architecture)", "--std=c++17"]
    }

    /// The function for `kernel`, compiling (or loading the cached) module on first use.
    func function(_ kernel: Kernel) throws -> CUfunction {
        lock.lock()
        defer { lock.unlock() }
        if let function = functions[kernel] { return function }
        let module = try loadedModule(kernel.module)
        var function: CUfunction?
        try context.driver.check(context.driver.cuModuleGetFunction(&function, module, kernel.symbol),
                                 "cuModuleGetFunction(\(kernel))")
        guard let function else {
            throw CUDAError.unsupportedDevice("cuModuleGetFunction returned no function for \(kernel)")
        }
        functions[kernel] = function
        return function
    }

    /// The cache file name of `module` for this GPU and NVRTC.
    func cacheFileName(_ module: KernelModule) -> String {
        KernelCache.fileName(module: module.rawValue, source: module.source, header: KernelModule.header,
                             architecture: architecture, nvrtcVersion: nvrtc.version,
                             options: Self.compilerOptions(architecture: architecture))
    }

    /// Loads `module` from the disk cache, or compiles it with NVRTC and caches it. Call with `lock` held.
    private func loadedModule(_ module: KernelModule) throws -> CUmodule {
        if let loaded = modules[module] { return loaded }
        let fileName = cacheFileName(module)
        if let cached = cache.load(fileName) {
            if let loaded = try? load(cached) {
                modules[module] = loaded
                return loaded
            }
            cache.remove(fileName)  // stale or corrupt: compile again below
        }
        let cubin = try nvrtc.compileToCUBIN(source: module.source, name: module.fileName,
                                             headers: [(KernelModule.headerName, KernelModule.header)],
                                             architecture: architecture,
                                             options: Self.compilerOptions(architecture: architecture))
        let loaded = try load(cubin)
        cache.store(cubin, as: fileName)
        modules[module] = loaded
        return loaded
    }

    private func load(_ image: [UInt8]) throws -> CUmodule {
        try context.makeCurrent()
        var module: CUmodule?
        try image.withUnsafeBytes { bytes in
            try context.driver.check(context.driver.cuModuleLoadData(&module, bytes.baseAddress), "cuModuleLoadData")
        }
        guard let module else { throw CUDAError.unsupportedDevice("cuModuleLoadData returned no module") }
        return module
    }
}
