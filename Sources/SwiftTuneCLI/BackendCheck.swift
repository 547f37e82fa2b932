import Foundation
import SwiftTuneCPU
import SwiftTuneCUDA
import SwiftTuneModels
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

/// What `swift-tune check-backend` found: every op on random inputs, then each fixture model's logits and
/// gradients, on a candidate backend against the CPU reference.
public struct BackendCheckReport: Sendable {
    public let candidate: String
    public let ops: [BackendOpComparison]
    public let models: [LogitsComparison]

    public var passed: Bool { !ops.contains(where: \.isFailure) && models.allSatisfy(\.passed) }

    /// Runs the check. `fixtures` is a folder of model folders (config.json + model.safetensors
    /// [+ golden.safetensors]), e.g. `Tests/Fixtures/golden`; nil skips the model part.
    public static func run(candidate: any Backend, fixtures: URL?, seed: UInt64) throws -> BackendCheckReport {
        let reference = CPUBackend()
        let ops = try compareBackends(reference: reference, candidate: candidate, seed: seed)
        var models: [LogitsComparison] = []
        if let fixtures {
            let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).sorted()
            for name in names {
                let directory = fixtures.appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.json").path) else {
                    continue
                }
                models.append(try LogitsComparison.compare(directory: directory, reference: reference, candidate: candidate))
            }
        }
        return BackendCheckReport(candidate: candidate.name, ops: ops, models: models)
    }
}
