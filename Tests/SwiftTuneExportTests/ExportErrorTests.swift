import Foundation
import SwiftTuneAdapters
import SwiftTuneCPU
import SwiftTuneCheckpoint
@testable import SwiftTuneExport
import Testing

/// Bad input: clear errors, and nothing left under a final name.
@Suite struct ExportErrorTests {
    let backend = CPUBackend()

    func options(_ checkpoint: URL, model: URL? = ExportFixtures.golden.appendingPathComponent("qwen2"), output: URL) -> ExportOptions {
        var options = ExportOptions(adapters: checkpoint, model: model)
        options.mergeLoRA = true
        options.outputDirectory = output
        return options
    }

    /// Files and hidden staging folders under `folder`.
    func contents(_ folder: URL) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
    }

    @Test func fullCheckpointHasNothingToMerge() throws {
        var options = ExportOptions(adapters: ExportFixtures.golden.appendingPathComponent("qwen2"))
        options.mergeLoRA = true
        #expect {
            try Exporter(backend: backend).run(options)
        } throws: { error in
            guard case .nothingToMerge? = error as? ExportError else { return false }
            return "\(error)".contains("no adapter_config.json") && "\(error)".contains("--to_gguf true")
        }
    }

    @Test func existingOutputNeedsExistOK() throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("merged")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: output.appendingPathComponent("model-00001-of-00009.safetensors"))
        #expect(throws: ExportError.outputExists(path: output.path)) {
            try Exporter(backend: backend).run(options(ExportFixtures.swiftAdapter, output: output))
        }
        #expect(contents(folder) == ["merged"] && contents(output) == ["model-00001-of-00009.safetensors"])
        var replace = options(ExportFixtures.swiftAdapter, output: output)
        replace.existOK = true
        _ = try Exporter(backend: backend).run(replace)
        #expect(contents(output).contains("model.safetensors") && !contents(output).contains("model-00001-of-00009.safetensors"))
        #expect(contents(folder) == ["merged"], "staging left behind")
    }

    @Test func noDiskSpaceWritesNothing() throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var exporter = Exporter(backend: backend)
        exporter.availableBytes = { _ in 100_000 }
        var request = options(ExportFixtures.swiftAdapter, output: folder.appendingPathComponent("merged"))
        request.toGGUF = true
        #expect {
            try exporter.run(request)
        } throws: { error in
            guard case let .insufficientDiskSpace(_, needed, available)? = error as? ExportError else { return false }
            return needed > 700_000 && available == 100_000 && "\(error)".contains("nothing was written")
        }
        #expect(contents(folder).isEmpty, "left \(contents(folder))")
    }

    /// A write that fails midway (here: the disk "fills" after the first shard) leaves no file with a final name.
    @Test func failureMidwayLeavesNoPartialOutput() throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var request = options(ExportFixtures.swiftAdapter, output: folder.appendingPathComponent("merged"))
        request.maxShardBytes = 100_000
        // A non-float tensor in the adapter makes the merge fail after earlier shards were written.
        let adapter = folder.appendingPathComponent("adapter")
        try FileManager.default.copyItem(at: ExportFixtures.swiftAdapter, to: adapter)
        let weights = try ModelWeights(file: adapter.appendingPathComponent(LoRAAdapter.weightsFileName))
        var tensors = try weights.names.map { (name: $0, tensor: try weights.tensor($0, on: backend, as: .f32)) }
        let last = try #require(tensors.lastIndex { $0.name.contains("layers.1.mlp.down_proj.lora_B") })
        tensors[last].tensor = try backend.tensor(Array(repeating: Int32(1), count: tensors[last].tensor.count),
                                                  shape: tensors[last].tensor.shape)
        try SafetensorsWriter.write(tensors: tensors, to: adapter.appendingPathComponent(LoRAAdapter.weightsFileName))
        request.adapters = adapter
        #expect(throws: (any Error).self) { try Exporter(backend: backend).run(request) }
        #expect(contents(folder) == ["adapter"], "left \(contents(folder))")
    }

    @Test func adapterForAnotherBaseModel() throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let request = options(ExportFixtures.swiftAdapter, model: ExportFixtures.golden.appendingPathComponent("llama"),
                              output: folder.appendingPathComponent("merged"))
        #expect {
            try Exporter(backend: backend).run(request)
        } throws: { error in
            guard case .shapeMismatch? = error as? AdapterError else { return false }
            return "\(error)".contains("another base model")
        }
        #expect(contents(folder).isEmpty)
    }

    @Test func requestsThatAskForNothing() throws {
        #expect(throws: ExportError.self) { try Exporter(backend: backend).run(ExportOptions(adapters: ExportFixtures.swiftAdapter)) }
        var merge = ExportOptions(model: ExportFixtures.golden.appendingPathComponent("qwen2"))
        merge.mergeLoRA = true
        #expect(throws: ExportError.self) { try Exporter(backend: backend).run(merge) }
    }

    @Test func outputIntoTheInputsIsRefused() throws {
        var request = options(ExportFixtures.swiftAdapter, output: ExportFixtures.swiftAdapter)
        request.existOK = true
        #expect(throws: ExportError.self) { try Exporter(backend: backend).run(request) }
        request.outputDirectory = ExportFixtures.golden.appendingPathComponent("qwen2")
        #expect(throws: ExportError.self) { try Exporter(backend: backend).run(request) }
    }

    @Test func shardSizes() {
        #expect(ExportOptions.parseShardSize("5GB") == 5_000_000_000)
        #expect(ExportOptions.parseShardSize("500MB") == 500_000_000)
        #expect(ExportOptions.parseShardSize("2GiB") == 2_147_483_648)
        #expect(ExportOptions.parseShardSize("1234") == 1234)
        #expect(ExportOptions.parseShardSize("0.5GB") == 500_000_000)
        #expect(ExportOptions.parseShardSize("lots") == nil && ExportOptions.parseShardSize("-1MB") == nil)
    }
}
