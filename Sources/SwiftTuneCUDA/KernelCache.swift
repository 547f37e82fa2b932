import Foundation

/// Compiled kernel modules on disk, so NVRTC runs once per module source, GPU architecture and NVRTC version.
///
/// Files live in `$XDG_CACHE_HOME/swift-tune/kernels/` (or `~/.cache/swift-tune/kernels/`) and are named
/// `<module>-<arch>-nvrtc<major>.<minor>-<hash>.cubin`, the hash covering the module's source, the shared header,
/// the architecture, the NVRTC version and the compiler options: editing one module recompiles only that one. Writes go to a temporary file that is renamed into place, so a reader never
/// sees half a file; a cache that cannot be read or written only costs a compilation.
struct KernelCache: Sendable {
    /// The folder, or nil when no cache folder could be determined.
    let directory: String?

    init(directory: String?) {
        self.directory = directory
    }

    /// The cache folder for `environment` (`XDG_CACHE_HOME`, else `HOME/.cache`).
    static func defaultDirectory(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/swift-tune/kernels" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.cache/swift-tune/kernels" }
        return nil
    }

    /// The file name for one compilation of module `module` (e.g. `layers`).
    static func fileName(module: String, source: [UInt8], header: [UInt8], architecture: String,
                         nvrtcVersion: (major: Int32, minor: Int32), options: [String]) -> String {
        var hash = FNV1a()
        hash.add(Array("\(source.count)\0".utf8))  // the length keeps source and header apart
        hash.add(source)
        hash.add(header)
        hash.add(Array("\0\(architecture)\0\(nvrtcVersion.major).\(nvrtcVersion.minor)\0".utf8))
        hash.add(Array(options.joined(separator: "\0").utf8))
        let hex = String(hash.value, radix: 16)
        let padded = String(repeating: "0", count: 16 - hex.count) + hex
        return "\(module)-\(architecture)-nvrtc\(nvrtcVersion.major).\(nvrtcVersion.minor)-\(padded).cubin"
    }

    /// The cached bytes of `fileName`, or nil.
    func load(_ fileName: String) -> [UInt8]? {
        guard let directory, let data = FileManager.default.contents(atPath: directory + "/" + fileName),
              !data.isEmpty else { return nil }
        return [UInt8](data)
    }

    /// Stores `bytes` as `fileName` atomically (temporary file + rename); failures are ignored.
    func store(_ bytes: [UInt8], as fileName: String) {
        guard let directory else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + fileName), options: .atomic)
        } catch {
            // A read-only or full disk only means the next run compiles again.
        }
    }

    /// Removes `fileName` (a cached file the driver refused to load).
    func remove(_ fileName: String) {
        guard let directory else { return }
        try? FileManager.default.removeItem(atPath: directory + "/" + fileName)
    }
}

/// 64-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/): a cache key, not a cryptographic hash.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
    }
}
