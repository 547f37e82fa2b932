import Foundation
import Testing
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneTensor
@testable import SwiftTuneTraining

/// `--torch_dtype`: ms-swift's default per backend, bfloat16 on the CPU on request (bf16 storage, f32 compute),
/// float16 refused, the resolved spelling in args.json and the precision in the log.
@Suite struct PrecisionFlagTests {
    static func arguments(_ run: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("args.json"))) as? [String: Any] ?? [:]
    }

    @Test func cpuDefaultsToFloat32AndRunsBFloat16OnRequest() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        var lines: [String] = []
        let plain = try SFT.run(try SFTTests.options(output: output.appendingPathComponent("a"), steps: 2),
                                backend: CPUBackend()) { lines.append($0) }
        #expect(try Self.arguments(plain.runFolder)["torch_dtype"] as? String == "float32")
        #expect(lines.contains { $0.contains("precision: float32") }, "the log names the precision: \(lines)")

        var options = try SFTTests.options(output: output.appendingPathComponent("b"), steps: 3)
        options.torchDtype = "bfloat16"
        lines = []
        let bf16 = try SFT.run(options, backend: CPUBackend()) { lines.append($0) }
        #expect(try Self.arguments(bf16.runFolder)["torch_dtype"] as? String == "bfloat16")
        #expect(lines.contains { $0.contains("precision: bfloat16") && $0.contains("f32 master") }, "\(lines)")
        let checkpoint = try #require(bf16.summary.lastCheckpoint)
        let adapter = try SafetensorsFile(url: checkpoint.appendingPathComponent("adapter_model.safetensors"))
        for name in adapter.names { #expect(try adapter.info(name).dtype == .f32, "\(name): the f32 master is saved") }
        let log = try String(contentsOf: bf16.runFolder.appendingPathComponent("logging.jsonl"), encoding: .utf8)
        let losses = log.split(separator: "\n").compactMap { line -> Double? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["loss"] as? Double
        }
        #expect(losses.count == 3 && losses.allSatisfy(\.isFinite), "\(losses)")
    }

    @Test func float16AndUnknownSpellingsAreRefused() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        for (spelling, fragment) in [("float16", "loss scaling"), ("fp8", "bfloat16, float32 or float16")] {
            var options = try SFTTests.options(output: output, steps: 1)
            options.torchDtype = spelling
            let error = #expect(throws: TrainingError.self) { try SFT.run(options, backend: CPUBackend()) }
            #expect(error?.description.contains("torch_dtype") == true && error?.description.contains(fragment) == true,
                    "\(error?.description ?? "no error")")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty, "no run folder for refused runs")
    }

    @Test func defaultPrecisionFollowsTheBackend() {
        #expect(Precision.default(for: CPUBackend()) == .f32)
        #expect(Precision(torchDtype: "bfloat16") == .bf16 && Precision(torchDtype: "float32") == .f32)
        #expect(Precision(torchDtype: "float16")?.compute == .f16 && Precision(torchDtype: "half") == nil)
    }
}
