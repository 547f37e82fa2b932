import Foundation
import SwiftTuneCPU
import SwiftTuneCUDA
import SwiftTuneTensor

/// A compute device picked by name: `cpu` (OpenBLAS when installed), `cpu-portable` (the Swift GEMM) or `cuda`.
public enum DeviceChoice: String, CaseIterable, Sendable {
    case cpu
    case cpuPortable = "cpu-portable"
    case cuda

    /// The backend; `cuda` throws a clear error naming what was searched when no GPU or driver is found.
    public func makeBackend() throws -> any Backend {
        switch self {
        case .cpu: CPUBackend()
        case .cpuPortable: CPUBackend(useBLAS: false)
        case .cuda: try CUDABackend()
        }
    }
}

extension DeviceChoice {
    /// `--device`: `cpu`, `cuda`, or nil for CUDA when a GPU is found and the CPU otherwise (saying why). A CUDA
    /// that cannot start is one line (cause and hint); `verbose` adds every path searched.
    static func pick(_ device: String?, verbose: Bool = false) throws -> any Backend {
        switch device {
        case "cpu": return try cpuBackend()
        case "cuda":
            do { return try DeviceChoice.cuda.makeBackend() } catch let error as CUDAError {
                throw DeviceError(message: verbose ? error.description : error.summary
                                  + (error.description.contains("searched:") ? " (--verbose true lists every path searched)" : ""))
            }
        default:
            do { return try DeviceChoice.cuda.makeBackend() } catch {
                let cause = (error as? CUDAError)?.shortCause ?? String(describing: error).split(separator: "\n").first.map(String.init) ?? ""
                note("no CUDA device (\(cause)); using the CPU")
                return try cpuBackend()
            }
        }
    }

    /// The CPU backend; without OpenBLAS, one line saying the portable GEMM is used.
    static func cpuBackend() throws -> any Backend {
        let backend = CPUBackend()
        if backend.blas == nil {
            note("no OpenBLAS found (libopenblas.so.0); using the portable Swift GEMM, several times slower "
                 + "(hint: apt-get install libopenblas0-pthread)")
        }
        return backend
    }

    private static func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}

/// A device that cannot be used, as one message for the command line.
struct DeviceError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
