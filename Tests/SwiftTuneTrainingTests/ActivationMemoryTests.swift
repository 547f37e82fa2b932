import Foundation
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneRunFiles
@testable import SwiftTuneTraining
import Testing

/// The activation-memory estimate made before the first step (issue 18), and the checkpoint folder's leftovers.
@Suite struct ActivationMemoryTests {
    /// The lm_head + cross-entropy chunk shrinks with the vocabulary so its logits stay within 256 MiB.
    @Test func lossChunksShrinkForLargeVocabularies() {
        #expect(DecoderModel.defaultLossChunkSize(vocabulary: 300) == 1024)
        #expect(DecoderModel.defaultLossChunkSize(vocabulary: 32_000) == 1024)
        #expect(DecoderModel.defaultLossChunkSize(vocabulary: 128_256) == 256)
        #expect(DecoderModel.defaultLossChunkSize(vocabulary: 152_064) == 256)
        #expect(DecoderModel.defaultLossChunkSize(vocabulary: 10_000_000) == 128)
    }

    /// The golden Qwen2 fixture's shape: D 64, 4 heads of 16, 2 kv heads, F 128, 2 layers, V 300.
    static let config = DecoderConfig(modelType: .qwen2, vocabSize: 300, hiddenSize: 64, intermediateSize: 128,
                                      numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2)

    @Test func theEstimateCountsWhatTheBackwardKeeps() {
        let plain = ActivationMemory(config: Self.config, tokens: 1000, gradientCheckpointing: false, lossChunkSize: 1024)
        // 4·64 + 2·64 + 2·32 + 3·128 + 4 + 2 = 838 values per layer and token.
        #expect(plain.keptPerLayer == 838)
        #expect(plain.valuesPerToken == 2 * 838 + 838 + 5 * 64)
        #expect(plain.bytes == 1000 * (2 * 838 + 838 + 320) * 4 + 1000 * 300 * 4)
        let checkpointed = ActivationMemory(config: Self.config, tokens: 1000, gradientCheckpointing: true, lossChunkSize: 1024)
        #expect(checkpointed.valuesPerToken == 2 * 64 + 2 * 838 + 5 * 64)
        #expect(checkpointed.bytes < plain.bytes)
        // --recompute_num_layers 1: layer 0 keeps its input and is recomputed, layer 1 keeps its activations.
        let partial = ActivationMemory(config: Self.config, tokens: 1000, gradientCheckpointing: true,
                                       recomputeNumLayers: 1, lossChunkSize: 1024)
        #expect(partial.recomputedLayers == 1)
        #expect(partial.valuesPerToken == 64 + 838 + 838 + 838 + 5 * 64)
        #expect(partial.description.contains("1 layer inputs of 64 + one recomputed layer of 838 + 1 layers × 838"))
        let none = ActivationMemory(config: Self.config, tokens: 1000, gradientCheckpointing: true,
                                    recomputeNumLayers: 0, lossChunkSize: 1024)
        #expect(none.valuesPerToken == plain.valuesPerToken, "recomputing no layer keeps what no checkpointing keeps")
        let beyond = ActivationMemory(config: Self.config, tokens: 1000, gradientCheckpointing: true,
                                      recomputeNumLayers: 9, lossChunkSize: 1024)
        #expect(beyond.valuesPerToken == checkpointed.valuesPerToken, "more than the model's layers means all of them")
        // bf16 activations: two bytes a value, the lm_head chunk's logits still f32.
        let bf16 = ActivationMemory(config: Self.config, tokens: 1000, gradientCheckpointing: false, lossChunkSize: 1024,
                                    bytesPerValue: 2)
        #expect(bf16.bytes == 1000 * (2 * 838 + 838 + 320) * 2 + 1000 * 300 * 4)
        let huge = ActivationMemory(config: Self.config, tokens: Int.max / 2, gradientCheckpointing: false, lossChunkSize: 1024)
        #expect(huge.bytes == Int.max)
    }

    @Test func aBatchThatCannotFitIsRefusedWithTheNumbersAndTheHints() throws {
        let estimate = ActivationMemory(config: Self.config, tokens: 10_000_000, gradientCheckpointing: false, lossChunkSize: 1024)
        do {
            try estimate.check(available: 1 << 30, device: "cpu")
            Issue.record("expected a refusal")
        } catch {
            let text = "\(error)"
            for part in ["\(estimate.bytes) bytes", "cpu has \(1 << 30) bytes free", "10000000 tokens", "--max_length",
                         "--gradient_checkpointing true", "--per_device_train_batch_size"] {
                #expect(text.contains(part), "missing \(part) in: \(text)")
            }
        }
        try estimate.check(available: nil, device: "cuda:0")  // unknown free memory: not checked
        try estimate.check(available: Int.max, device: "cpu")
    }

    @Test func memAvailableIsReadFromMeminfo() {
        let text = "MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:   12345678 kB\n"
        #expect(ActivationMemory.memAvailable(meminfo: text) == 12_345_678 * 1024)
        #expect(ActivationMemory.memAvailable(meminfo: "MemTotal: 1 kB\n") == nil)
    }

    @Test func leftoversAreRemovedAndAReplacedCheckpointIsPutBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = CheckpointStore(runFolder: folder)
        try store.save(step: 1) { try Data("one".utf8).write(to: $0.appendingPathComponent("w")) }
        try store.save(step: 2) { try Data("two".utf8).write(to: $0.appendingPathComponent("w")) }
        // A kill between the two renames of a replacement: checkpoint-2 moved aside, its successor still partial.
        try FileManager.default.moveItem(at: store.folder(step: 2), to: folder.appendingPathComponent(".checkpoint-2.old-X"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent(".checkpoint-2.partial-Y"),
                                                withIntermediateDirectories: true)
        store.removeLeftovers()
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["checkpoint-1", "checkpoint-2"])
        #expect(try String(contentsOf: store.folder(step: 2).appendingPathComponent("w"), encoding: .utf8) == "two")
        try store.rotate(limit: 1, keep: nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["checkpoint-2"])
    }
}
