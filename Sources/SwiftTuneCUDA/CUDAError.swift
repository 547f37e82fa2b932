/// Errors from the CUDA backend: a missing library or symbol, a failed driver / NVRTC / cuBLASLt call, or a kernel
/// that did not compile. Each names the call and the status, and says what to do where there is something to do.
public enum CUDAError: Error, CustomStringConvertible, Sendable {
    /// One or more of the CUDA libraries could not be loaded; each entry lists every path tried.
    case librariesNotFound([LibrarySearch])
    /// A library loaded but lacks a function the backend needs (usually a driver or toolkit that is too old).
    case symbolNotFound(library: String, symbol: String)
    /// A driver API call failed: `code` is the `CUresult`, `name` and `message` come from `cuGetErrorName/String`.
    case driver(call: String, code: Int32, name: String, message: String)
    /// An NVRTC call failed (`nvrtcResult` and `nvrtcGetErrorString`).
    case nvrtc(call: String, code: Int32, message: String)
    /// A kernel module (e.g. `layers.cu`) did not compile; `log` is NVRTC's program log.
    case compilation(module: String, architecture: String, log: String)
    /// A cuBLASLt call failed (`cublasStatus_t` and `cublasLtGetStatusName/String`).
    case cublas(call: String, status: Int32, name: String, message: String)
    /// The GPU cannot run this backend (no device, wrong ordinal, no stream-ordered memory pools, ...).
    case unsupportedDevice(String)
    /// An allocation of `requested` bytes failed on `device` with `free` of `total` bytes free (`cuMemGetInfo`, after
    /// the pool gave its unused blocks back) and `inUse` bytes held by this process's tensors; nil where unknown.
    case outOfMemory(device: String, requested: Int, free: Int?, total: Int?, inUse: Int?)

    /// What was tried for one library.
    public struct LibrarySearch: Sendable, Equatable {
        /// The library, e.g. `libnvrtc.so.13`.
        public var library: String
        /// What it provides, e.g. `NVRTC, the run-time CUDA compiler`.
        public var purpose: String
        /// Every path or soname passed to `dlopen`, in order.
        public var searched: [String]
        /// `dlerror()` of the last attempt.
        public var lastError: String
    }

    /// `bytes` for a message: GiB with two decimals from 1 GiB (`1.50 GiB`), whole MiB below (`512 MiB`).
    static func size(_ bytes: Int) -> String {
        guard bytes >= 1 << 30 else { return "\(Int((Double(bytes) / 1_048_576).rounded())) MiB" }
        let hundredths = Int((Double(bytes) / 1_073_741_824 * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100) GiB"
    }

    static let hint = "install the NVIDIA driver and the CUDA 13 libraries (libnvrtc.so.13, libcublasLt.so.13), "
        + "set SWIFT_TUNE_CUDA_LIB_DIR to the folder that holds them, or use --device cpu"

    /// One line: the cause and the hint, without the paths searched (`description` has them).
    public var summary: String {
        switch self {
        case let .librariesNotFound(searches):
            let causes = searches.map { search in
                "\(search.library) (\(search.purpose))" + (search.lastError.isEmpty ? "" : ": \(search.lastError)")
            }
            return "CUDA backend unavailable: could not load " + causes.joined(separator: "; ") + " (hint: \(Self.hint))"
        default:
            return description.split(separator: "\n").first.map(String.init) ?? description
        }
    }

    /// The cause in a few words, for a note that the CPU is used instead: the libraries that did not load, or the
    /// summary.
    public var shortCause: String {
        if case let .librariesNotFound(searches) = self {
            return "could not load " + searches.map(\.library).joined(separator: ", ")
        }
        return summary
    }

    public var description: String {
        switch self {
        case let .librariesNotFound(searches):
            var lines = ["CUDA backend unavailable: could not load "
                + searches.map(\.library).joined(separator: ", ") + "."]
            for search in searches {
                lines.append("  \(search.library) (\(search.purpose)); searched:")
                lines += search.searched.map { "    \($0)" }
                if !search.lastError.isEmpty { lines.append("    last error: \(search.lastError)") }
            }
            lines.append("hint: \(Self.hint)")
            return lines.joined(separator: "\n")
        case let .symbolNotFound(library, symbol):
            return "CUDA backend unavailable: \(library) has no function \(symbol) "
                + "(hint: the driver or CUDA toolkit is too old; this backend needs CUDA 12.0 or newer)"
        case let .driver(call, code, name, message):
            let hint = code == 100 ? " (hint: no NVIDIA GPU is visible; check nvidia-smi and CUDA_VISIBLE_DEVICES, "
                + "or use --device cpu)" : ""
            return "CUDA driver call \(call) failed: \(name) (\(code)): \(message)\(hint)"
        case let .nvrtc(call, code, message):
            return "NVRTC call \(call) failed: \(message) (\(code))"
        case let .compilation(module, architecture, log):
            return "NVRTC could not compile \(module) for \(architecture):\n\(log)"
        case let .cublas(call, status, name, message):
            return "cuBLASLt call \(call) failed: \(name) (\(status)): \(message)"
        case let .unsupportedDevice(reason):
            return "CUDA backend unavailable: \(reason) (hint: use --device cpu)"
        case let .outOfMemory(device, requested, free, total, inUse):
            var state = [free.map { "\(Self.size($0)) free" }, total.map { "of \(Self.size($0))" }].compactMap { $0 }
            if let inUse { state.append("(\(Self.size(inUse)) held by this run's tensors)") }
            return "out of GPU memory on \(device): asked for \(Self.size(requested))"
                + (state.isEmpty ? "" : " with " + state.joined(separator: " ")) + " (hint: turn on "
                + "--gradient_checkpointing true, use a shorter --max_length or a smaller batch, or --train_type qlora)"
        }
    }
}
