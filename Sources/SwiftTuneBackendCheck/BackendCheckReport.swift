import Foundation
import SwiftTuneCPU
import SwiftTuneModels
import SwiftTuneTensor

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
