import Foundation
import Testing
import SwiftTuneAdapters
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneTensor

/// An adapter written by swift-tune, committed with swift-tune's logits for the golden batch, so that
/// `scripts/golden/check_peft_loads_adapter.py` (on the GPU machine, with peft) can check that
/// `PeftModel.from_pretrained` loads it and gives the same logits. Regenerate with SWIFT_TUNE_WRITE_FIXTURES=1.
@Suite struct PEFTInteropTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// The qwen2 golden model with a seeded LoRA whose B is non-zero, and its logits on the golden batch.
    static func adaptedModel() throws -> (model: DecoderModel, logits: [Float], backend: CPUBackend) {
        let backend = CPUBackend()
        let directory = fixtures.appendingPathComponent("golden/qwen2")
        let model = try DecoderModel.load(directory: directory, backend: backend)
        _ = try model.attachLoRA(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0), seed: 11, trainable: false)
        var generator = SeededGenerator(seed: 12)
        for (key, parameter) in try model.adapterParameters() where key.contains("lora_B") {
            let values = generator.normals(parameter.value.count, standardDeviation: 0.05)
            try values.withUnsafeBytes { try backend.upload($0, to: parameter.value) }
        }
        let golden = try SafetensorsFile(url: directory.appendingPathComponent("golden.safetensors"))
        let ids = try backend.int32s(golden.tensor("input_ids", on: backend))
        let length = try golden.info("input_ids").shape[1]
        let batch = try TokenBatch(sequences: [Array(ids[..<length]), Array(ids[length...])])
        return (model, try backend.floats(model.logits(batch.upload(to: backend))), backend)
    }

    @Test func committedAdapterAndLogitsAreReproducible() throws {
        let (model, logits, backend) = try Self.adaptedModel()
        let adapterFolder = Self.fixtures.appendingPathComponent("lora/swift_adapter")
        let logitsFile = Self.fixtures.appendingPathComponent("lora/swift_adapter_logits.safetensors")
        if ProcessInfo.processInfo.environment["SWIFT_TUNE_WRITE_FIXTURES"] == "1" {
            try LoRAAdapter.save(from: model, to: adapterFolder, baseModelNameOrPath: "Tests/Fixtures/golden/qwen2")
            try SafetensorsWriter.write(tensors: ["logits": backend.tensor(logits, shape: [2, logits.count / 600, 300])],
                                        to: logitsFile)
        }
        let committed = try SafetensorsFile(url: logitsFile)
        let expected = try backend.floats(committed.tensor("logits", on: backend))
        #expect(relativeMaxError(expected, logits) <= 1e-5, "logits drifted from the committed fixture")
        let reloaded = try DecoderModel.load(directory: Self.fixtures.appendingPathComponent("golden/qwen2"), backend: backend)
        _ = try LoRAAdapter.load(from: adapterFolder, into: reloaded)
        for ((key, ours), (_, theirs)) in zip(try model.adapterParameters(), try reloaded.adapterParameters()) {
            #expect(try backend.floats(ours.value) == backend.floats(theirs.value), "\(key)")
        }
    }
}
