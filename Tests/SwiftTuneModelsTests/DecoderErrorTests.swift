import Foundation
import Testing
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneTensor
@testable import SwiftTuneModels

@Suite struct DecoderErrorTests {
    let backend = CPUBackend()
    let directory = goldenDirectory.appendingPathComponent("qwen2")

    /// Builds the qwen2 golden model through `transform`, which may drop or replace weights.
    func build(_ transform: @escaping (String, Tensor) throws -> Tensor?) throws -> DecoderModel {
        let config = try DecoderConfig.load(from: directory.appendingPathComponent("config.json"))
        let weights = try ModelWeights(directory: directory)
        return try DecoderModel(config: config, backend: backend, source: "qwen2/model.safetensors") { name in
            guard weights.contains(name) else { return nil }
            return try transform(name, weights.tensor(name, on: backend, as: .f32))
        }
    }

    @Test func missingWeightNamesKeyAndFile() throws {
        let key = "model.layers.1.self_attn.k_proj.bias"
        #expect(throws: ModelError.missingWeight(key: key, source: "qwen2/model.safetensors")) {
            try build { name, tensor in name == key ? nil : tensor }
        }
        let message = ModelError.missingWeight(key: key, source: "qwen2/model.safetensors").description
        #expect(message.contains(key) && message.contains("qwen2/model.safetensors"))
    }

    @Test func wrongShapeNamesKeyExpectedAndGot() throws {
        let key = "model.layers.0.mlp.up_proj.weight"
        #expect(throws: ModelError.weightShapeMismatch(key: key, source: "qwen2/model.safetensors",
                                                       expected: [128, 64], got: [64, 128])) {
            try build { name, tensor in name == key ? try tensor.reshaped([64, 128]) : tensor }
        }
    }

    @Test func loadingAFolderWithoutWeightsFails() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        try FileManager.default.copyItem(at: directory.appendingPathComponent("config.json"),
                                         to: empty.appendingPathComponent("config.json"))
        #expect(throws: (any Error).self) { try DecoderModel.load(directory: empty, backend: backend) }
    }

    @Test func batchValidationNamesTheToken() throws {
        let batch = try TokenBatch(sequences: [[1, 2, 3], [4, 400]])
        #expect(throws: ModelError.invalidBatch("token 4 has id 400, outside the vocabulary 0..<300")) {
            try batch.validate(vocabularySize: 300)
        }
        #expect(throws: ModelError.self) { try TokenBatch(sequences: [[1, 2], []]) }
        #expect(throws: ModelError.self) { try TokenBatch(sequences: [[1, 2]], labels: [[1]]) }
    }

    @Test func packingShiftsLabelsInsideEachSequence() throws {
        let batch = try TokenBatch(sequences: [[5, 6, 7], [8, 9]], labels: [[-100, 6, 7], [8, 9]])
        #expect(batch.inputIds == [5, 6, 7, 8, 9])
        #expect(batch.positions == [0, 1, 2, 0, 1])
        #expect(batch.sequenceStarts == [0, 3, 5])
        #expect(batch.targets == [6, 7, -100, 9, -100])
        #expect(batch.scoredTokenCount == 3)
    }
}
