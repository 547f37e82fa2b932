#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared library opened with `dlopen`, so the binary links nothing from CUDA at build time.
final class DynamicLibrary: @unchecked Sendable {
    /// The path or soname that `dlopen` accepted.
    let path: String
    private let handle: UnsafeMutableRawPointer

    private init(path: String, handle: UnsafeMutableRawPointer) {
        self.path = path
        self.handle = handle
    }

    /// The function `name` as the C function type `T` (a `@convention(c)` type).
    func function<T>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let symbol = dlsym(handle, name) else {
            throw CUDAError.symbolNotFound(library: path, symbol: name)
        }
        return unsafeBitCast(symbol, to: T.self)
    }

    /// Opens the first candidate that loads, or returns what was tried.
    static func open(_ candidates: [String]) -> Result<DynamicLibrary, SearchFailure> {
        var lastError = ""
        for candidate in candidates {
            if candidate.contains("/") {
                // Skip missing files quietly; dlerror would only say "No such file".
                guard access(candidate, F_OK) == 0 else { continue }
                preloadNVRTCBuiltins(besides: candidate)
            }
            if let handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) {
                return .success(DynamicLibrary(path: candidate, handle: handle))
            }
            lastError = dlerror().map { String(cString: $0) } ?? ""
        }
        return .failure(SearchFailure(lastError: lastError))
    }

    struct SearchFailure: Error {
        var lastError: String
    }

    /// NVRTC loads `libnvrtc-builtins.so.*` by soname at compile time; when NVRTC comes from a folder outside the
    /// loader's search path, load the builtins from that folder first so the soname lookup finds them loaded.
    private static func preloadNVRTCBuiltins(besides path: String) {
        guard path.hasSuffix("libnvrtc.so.13") || path.hasSuffix("libnvrtc.so") else { return }
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("libnvrtc-builtins.so") {
                _ = dlopen(folder + "/" + name, RTLD_NOW | RTLD_GLOBAL)
            }
        }
    }
}

/// The three CUDA libraries the backend uses, found at run time.
struct CUDALibraries {
    let driver: DynamicLibrary
    let nvrtc: DynamicLibrary
    let cublasLt: DynamicLibrary

    /// A library the backend needs: its file names (first preferred) and what it is for.
    struct Requirement {
        var names: [String]
        var purpose: String
    }

    static let driverLibrary = Requirement(names: ["libcuda.so.1"], purpose: "the NVIDIA driver API")
    static let nvrtcLibrary = Requirement(
        names: ["libnvrtc.so.13", "libnvrtc.so"], purpose: "NVRTC, the run-time CUDA compiler")
    static let cublasLtLibrary = Requirement(
        names: ["libcublasLt.so.13"], purpose: "cuBLASLt, for matrix products")

    /// Folders searched before the plain sonames, in order: `$SWIFT_TUNE_CUDA_LIB_DIR`, `$CUDA_HOME/lib64`,
    /// `$CUDA_HOME/targets/x86_64-linux/lib`, then the usual CUDA 13 install folders.
    static func searchFolders(environment: [String: String]) -> [String] {
        var folders: [String] = []
        if let override = environment["SWIFT_TUNE_CUDA_LIB_DIR"], !override.isEmpty {
            folders += override.split(separator: ":").map(String.init)
        }
        if let home = environment["CUDA_HOME"], !home.isEmpty {
            folders += [home + "/lib64", home + "/targets/x86_64-linux/lib"]
        }
        folders += [
            "/usr/local/cuda/lib64",
            "/usr/local/cuda-13.0/targets/x86_64-linux/lib",
            "/usr/local/cuda/targets/x86_64-linux/lib",
        ]
        var seen = Set<String>()
        return folders.filter { seen.insert($0).inserted }
    }

    /// Every `dlopen` argument tried for `requirement`: each folder with each name, then the plain sonames
    /// (resolved through LD_LIBRARY_PATH and the system library cache).
    static func candidates(for requirement: Requirement, folders: [String]) -> [String] {
        folders.flatMap { folder in requirement.names.map { folder + "/" + $0 } } + requirement.names
    }

    /// Loads all three libraries, or throws `CUDAError.librariesNotFound` naming each missing one and every path
    /// searched for it.
    static func load(environment: [String: String] = currentEnvironment()) throws -> CUDALibraries {
        let folders = searchFolders(environment: environment)
        var missing: [CUDAError.LibrarySearch] = []
        func open(_ requirement: Requirement) -> DynamicLibrary? {
            let candidates = candidates(for: requirement, folders: folders)
            switch DynamicLibrary.open(candidates) {
            case let .success(library):
                return library
            case let .failure(failure):
                let searched = candidates.map { $0.contains("/") ? $0 : "\($0) (LD_LIBRARY_PATH, system library cache)" }
                missing.append(.init(library: requirement.names[0], purpose: requirement.purpose,
                                     searched: searched, lastError: failure.lastError))
                return nil
            }
        }
        let driver = open(driverLibrary), nvrtc = open(nvrtcLibrary), cublasLt = open(cublasLtLibrary)
        guard let driver, let nvrtc, let cublasLt else { throw CUDAError.librariesNotFound(missing) }
        return CUDALibraries(driver: driver, nvrtc: nvrtc, cublasLt: cublasLt)
    }

    /// The process environment as a dictionary (without Foundation).
    static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
