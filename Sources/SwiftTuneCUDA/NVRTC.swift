#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// NVRTC, the run-time CUDA compiler (`nvrtc.h`), resolved from `libnvrtc.so.13` with `dlsym`.
struct NVRTC: @unchecked Sendable {
    typealias Program = OpaquePointer
    typealias Result = Int32

    let nvrtcVersion: @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Result
    // nvrtcCreateProgram(prog, src, name, numHeaders, headers, includeNames)
    let nvrtcCreateProgram: @convention(c) (
        UnsafeMutablePointer<Program?>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32,
        UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?
    ) -> Result
    let nvrtcCompileProgram: @convention(c) (Program?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Result
    let nvrtcGetProgramLogSize: @convention(c) (Program?, UnsafeMutablePointer<Int>?) -> Result
    let nvrtcGetProgramLog: @convention(c) (Program?, UnsafeMutablePointer<CChar>?) -> Result
    let nvrtcGetCUBINSize: @convention(c) (Program?, UnsafeMutablePointer<Int>?) -> Result
    let nvrtcGetCUBIN: @convention(c) (Program?, UnsafeMutablePointer<CChar>?) -> Result
    let nvrtcDestroyProgram: @convention(c) (UnsafeMutablePointer<Program?>?) -> Result
    let nvrtcGetErrorString: @convention(c) (Result) -> UnsafePointer<CChar>?

    /// NVRTC's `(major, minor)` version, part of the kernel cache key.
    let version: (major: Int32, minor: Int32)

    init(_ library: DynamicLibrary) throws {
        nvrtcVersion = try library.function("nvrtcVersion")
        nvrtcCreateProgram = try library.function("nvrtcCreateProgram")
        nvrtcCompileProgram = try library.function("nvrtcCompileProgram")
        nvrtcGetProgramLogSize = try library.function("nvrtcGetProgramLogSize")
        nvrtcGetProgramLog = try library.function("nvrtcGetProgramLog")
        nvrtcGetCUBINSize = try library.function("nvrtcGetCUBINSize")
        nvrtcGetCUBIN = try library.function("nvrtcGetCUBIN")
        nvrtcDestroyProgram = try library.function("nvrtcDestroyProgram")
        nvrtcGetErrorString = try library.function("nvrtcGetErrorString")
        var major: Int32 = 0, minor: Int32 = 0
        let result = nvrtcVersion(&major, &minor)
        version = (major, minor)
        try check(result, "nvrtcVersion")
    }

    /// Throws `CUDAError.nvrtc` naming `call` unless `result` is `NVRTC_SUCCESS`.
    func check(_ result: Result, _ call: String) throws {
        guard result != 0 else { return }
        let message = nvrtcGetErrorString(result).map { String(cString: $0) } ?? "unknown nvrtcResult"
        throw CUDAError.nvrtc(call: call, code: result, message: message)
    }

    /// Compiles `source` (CUDA C++) to a cubin for `architecture` (`sm_XY`), throwing the program log on failure.
    /// `headers` are in-memory headers the source may `#include` by name (e.g. `common.cuh`); `name` names the
    /// program in NVRTC's messages.
    func compileToCUBIN(source: [UInt8], name: String, headers: [(name: String, source: [UInt8])] = [],
                        architecture: String, options: [String]) throws -> [UInt8] {
        var program: Program?
        // One C array: the source, then the header sources, then the header names.
        let texts = [String(decoding: source, as: UTF8.self)]
            + headers.map { String(decoding: $0.source, as: UTF8.self) } + headers.map(\.name)
        let created = withCStrings(texts) { strings in
            let headerSources = headers.isEmpty ? nil : strings?.advanced(by: 1)
            let headerNames = headers.isEmpty ? nil : strings?.advanced(by: 1 + headers.count)
            return nvrtcCreateProgram(&program, strings?[0], name, Int32(headers.count), headerSources, headerNames)
        }
        try check(created, "nvrtcCreateProgram(\(name))")
        defer { _ = nvrtcDestroyProgram(&program) }

        let compiled = withCStrings(options) { nvrtcCompileProgram(program, Int32(options.count), $0) }
        if compiled != 0 {
            var size = 0
            var log = "(no log)"
            if nvrtcGetProgramLogSize(program, &size) == 0, size > 1 {
                var buffer = [CChar](repeating: 0, count: size)
                if nvrtcGetProgramLog(program, &buffer) == 0 {
                    log = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            }
            let message = nvrtcGetErrorString(compiled).map { String(cString: $0) } ?? "\(compiled)"
            throw CUDAError.compilation(module: name, architecture: architecture, log: "\(message)\n\(log)")
        }

        var size = 0
        try check(nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize")
        var cubin = [CChar](repeating: 0, count: size)
        try check(nvrtcGetCUBIN(program, &cubin), "nvrtcGetCUBIN")
        return cubin.map { UInt8(bitPattern: $0) }
    }
}

/// Calls `body` with a C array of C strings that lives for the duration of the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer<CChar>($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
