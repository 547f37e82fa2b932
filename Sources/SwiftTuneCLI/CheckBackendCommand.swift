import ArgumentParser
import Foundation
import SwiftTuneBackendCheck

/// `swift-tune check-backend`: compares a backend with the CPU reference, op by op and on real models
/// (`BackendCheckReport.run` in SwiftTuneBackendCheck), and prints the tables.
struct CheckBackendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-backend",
        abstract: "Compare a backend with the CPU reference: every op on random inputs, then model logits and gradients.")

    @Option(help: "The backend to check: cuda, cpu or cpu-portable.")
    var device: String = "cuda"

    @Option(help: "A folder of model folders (config.json + model.safetensors, optionally golden.safetensors).")
    var fixtures: String?

    @Option(help: "Seed for the random op inputs.")
    var seed: UInt64 = 42

    func validate() throws {
        guard DeviceChoice(rawValue: device) != nil else {
            throw ValidationError("--device \(device): expected one of \(DeviceChoice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let fixtures, !FileManager.default.fileExists(atPath: fixtures) {
            throw ValidationError("--fixtures \(fixtures): no such folder")
        }
    }

    func run() throws {
        guard let choice = DeviceChoice(rawValue: device) else { throw ValidationError("--device \(device): unknown") }
        let backend = try choice.makeBackend()
        let report = try BackendCheckReport.run(
            candidate: backend, fixtures: fixtures.map { URL(fileURLWithPath: $0) }, seed: seed)
        print("Ops on \(report.candidate) vs cpu:")
        print(BackendOpComparison.table(report.ops))
        if !report.models.isEmpty {
            print("\nModels on \(report.candidate) vs cpu:")
            report.models.forEach { print($0) }
        }
        print(report.passed ? "\ncheck-backend: PASS" : "\ncheck-backend: FAIL")
        if !report.passed { throw ExitCode.failure }
    }
}
