import Foundation
import SwiftTuneAdapters
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneCheckpoint
@testable import SwiftTuneExport
import SwiftTuneModels
import SwiftTuneTensor
import Testing

/// `--merge_lora`: the merged tiny models reload in swift-tune with the logits of the base with the adapter attached.
/// With SWIFT_TUNE_WRITE_FIXTURES=1 the merged folders and swift-tune's unmerged logits are written under
/// Tests/Fixtures/export for scripts/gpu/check_merged_in_transformers.py.
@Suite struct MergeExportTests {
    let backend = CPUBackend()

    /// Exports `checkpoint` merged, reloads it, and compares logits with the unmerged base + adapter.
    func checkMerge(family: String, checkpoint: URL, model: URL?, output: URL, maxShardBytes: Int = 5_000_000_000)
        throws -> (result: ExportResult, unmerged: [Float])
    {
        var options = ExportOptions(adapters: checkpoint, model: model)
        options.mergeLoRA = true
        options.outputDirectory = output
        options.maxShardBytes = maxShardBytes
        options.existOK = true
        let result = try Exporter(backend: backend).run(options)
        let merged = try #require(result.mergedFolder)
        let (sequences, unmerged) = try ExportFixtures.adapterLogits(family: family, checkpoint: checkpoint, backend: backend)
        let reloaded = try DecoderModel.load(directory: merged, backend: backend)
        let logits = try ExportFixtures.logits(reloaded, sequences, backend: backend)
        let (difference, index) = ExportFixtures.maxDifference(unmerged, logits)
        #expect(difference <= 1e-4, """
            \(family): merged logits differ from base + adapter by \(difference) at \(index) \
            (merged \(logits[index]), unmerged \(unmerged[index])); first values \(logits.prefix(3)) vs \(unmerged.prefix(3))
            """)
        for name in ["config.json", "generation_config.json", "args.json"] {
            #expect(FileManager.default.fileExists(atPath: merged.appendingPathComponent(name).path), "\(name) missing")
        }
        return (result, unmerged)
    }

    @Test func qwen2AdapterMergesToTheSameLogits() throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = ExportFixtures.writesFixtures ? ExportFixtures.export.appendingPathComponent("merged/qwen2")
            : folder.appendingPathComponent("merged")
        let (result, unmerged) = try checkMerge(family: "qwen2", checkpoint: ExportFixtures.swiftAdapter,
                                                model: ExportFixtures.golden.appendingPathComponent("qwen2"), output: output)
        let merged = try #require(result.mergedFolder)
        for name in ["tokenizer.json", "tokenizer_config.json", "model.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: merged.appendingPathComponent(name).path), "\(name) missing")
        }
        // Streaming: never more than about one tensor and one module's adapter alive, not the model.
        let memory = result.memory
        #expect(memory.tensorsProduced == DecoderModel.parameterShapes(for: try DecoderConfig.load(from: merged)).count)
        #expect(memory.peakLiveBytes <= 2 * memory.largestTensorBytes + 64 * 1024,
                "peak \(memory.peakLiveBytes) bytes alive, largest tensor \(memory.largestTensorBytes)")
        #expect(memory.peakLiveBytes * 3 < memory.totalBytes, "peak \(memory.peakLiveBytes) of \(memory.totalBytes) bytes")
        try compareWithCommittedFixture("qwen2", merged: merged, unmerged: unmerged)
    }

    @Test func llamaAdapterFromArgsJSONMergesIntoShards() throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = try ExportFixtures.llamaCheckpoint(in: folder, backend: backend)
        let output = ExportFixtures.writesFixtures ? ExportFixtures.export.appendingPathComponent("merged/llama")
            : checkpoint.deletingLastPathComponent().appendingPathComponent("checkpoint-8-merged")
        // --model comes from the run's args.json; 200 kB shards split the ~500 kB model.
        let (result, unmerged) = try checkMerge(family: "llama", checkpoint: checkpoint, model: nil,
                                                output: ExportFixtures.writesFixtures ? output : output,
                                                maxShardBytes: ExportFixtures.writesFixtures ? 5_000_000_000 : 200_000)
        let merged = try #require(result.mergedFolder)
        #expect(merged.path == output.standardizedFileURL.path)
        if !ExportFixtures.writesFixtures {
            let files = try FileManager.default.contentsOfDirectory(atPath: merged.path).sorted()
            let shards = files.filter { $0.hasPrefix("model-") && $0.hasSuffix(".safetensors") }
            #expect(shards.count >= 3 && files.contains("model.safetensors.index.json"), "\(files)")
            #expect(shards.first == "model-00001-of-0000\(shards.count).safetensors")
        }
        let arguments = try String(contentsOf: merged.appendingPathComponent("args.json"), encoding: .utf8)
        #expect(arguments.contains("\"merge_lora\": true") && arguments.contains("\"template\": \"llama3\""))
        try compareWithCommittedFixture("llama", merged: merged, unmerged: unmerged)
    }

    /// The default output name is ms-swift's: `<checkpoint>-merged` next to the checkpoint.
    @Test func defaultOutputIsNextToTheCheckpoint() throws {
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = try ExportFixtures.llamaCheckpoint(in: folder, backend: backend)
        var options = ExportOptions(adapters: checkpoint)
        options.mergeLoRA = true
        let result = try Exporter(backend: backend).run(options)
        #expect(result.mergedFolder?.lastPathComponent == "checkpoint-8-merged")
        let siblings = try FileManager.default.contentsOfDirectory(atPath: checkpoint.deletingLastPathComponent().path)
        #expect(!siblings.contains { $0.contains(".partial-") }, "staging left behind: \(siblings)")
    }

    /// Writes (SWIFT_TUNE_WRITE_FIXTURES=1) or checks the committed merged folder and unmerged logits the GPU script uses.
    func compareWithCommittedFixture(_ family: String, merged: URL, unmerged: [Float]) throws {
        let logitsFile = ExportFixtures.export.appendingPathComponent("merged/\(family)_unmerged_logits.safetensors")
        let sequences = try ExportFixtures.goldenSequences(family, backend: backend)
        if ExportFixtures.writesFixtures {
            let vocabulary = unmerged.count / sequences.count / sequences[0].count
            try SafetensorsWriter.write(tensors: ["logits": backend.tensor(unmerged, shape: [sequences.count, sequences[0].count, vocabulary])],
                                        to: logitsFile)
            return
        }
        let committed = ExportFixtures.export.appendingPathComponent("merged/\(family)")
        try #require(FileManager.default.fileExists(atPath: logitsFile.path),
                     "\(logitsFile.path) is missing: run SWIFT_TUNE_WRITE_FIXTURES=1 swift test --filter MergeExportTests")
        let expected = try backend.floats(SafetensorsFile(url: logitsFile).tensor("logits", on: backend))
        #expect(relativeMaxError(expected, unmerged) <= 1e-6, "\(family): unmerged logits drifted from the committed fixture")
        let fresh = try ModelWeights(directory: merged), old = try ModelWeights(directory: committed)
        #expect(fresh.names == old.names)
        for name in fresh.names {
            let a = try fresh.withBytes(name) { Array($0) }, b = try old.withBytes(name) { Array($0) }
            #expect(a == b, "\(family): \(name) differs from the committed merged fixture")
        }
    }
}
