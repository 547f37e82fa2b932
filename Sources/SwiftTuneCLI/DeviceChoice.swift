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
    /// `--device`: `cpu`, `cuda`, or nil for CUDA when a GPU is found and the CPU otherwise (saying why).
    static func pick(_ device: String?) throws -> any Backend {
        switch device {
        case "cpu": return try DeviceChoice.cpu.makeBackend()
        case "cuda": return try DeviceChoice.cuda.makeBackend()
        default:
            do { return try DeviceChoice.cuda.makeBackend() } catch {
                FileHandle.standardError.write(Data("no CUDA device (\(String(describing: error).split(separator: "\n").first ?? "")); using the CPU\n".utf8))
                return try DeviceChoice.cpu.makeBackend()
            }
        }
    }
}
