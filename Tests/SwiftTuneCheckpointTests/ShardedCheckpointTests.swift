import Foundation
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneTensor
import Testing

@Suite struct ShardedCheckpointTests {
    let backend = CPUBackend(useBLAS: false, threadCount: 1)

    /// Five f32 tensors in model order: 64 + 32 + 64 + 16 + 8 bytes.
    func modelTensors() throws -> [(name: String, tensor: Tensor)] {
        [
            ("model.embed_tokens.weight", try backend.tensor((0..<16).map(Float.init), shape: [4, 4])),
            ("model.layers.0.input_layernorm.weight", try backend.tensor([1, 2, 3, 4, 5, 6, 7, 8], shape: [8])),
            ("model.layers.0.mlp.up_proj.weight", try backend.tensor((0..<16).map { Float($0) / 2 }, shape: [4, 4])),
            ("model.norm.weight", try backend.tensor([9, 8, 7, 6], shape: [4])),
            ("lm_head.weight", try backend.tensor([0.5, -0.5], shape: [2])),
        ]
    }

    @Test func shardedWriteProducesShardsAndIndexThatReadBack() throws {
        let directory = try TemporaryDirectory()
        let tensors = try modelTensors()
        // Limit 100: [64, 32] = 96, then [64, 16, 8] = 88.
        let written = try SafetensorsWriter.writeSharded(tensors: tensors, to: directory.url, maxShardBytes: 100)
        let first = "model-00001-of-00002.safetensors", second = "model-00002-of-00002.safetensors"
        #expect(written == [first, second, "model.safetensors.index.json"])
        #expect(try directory.contents() == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                                              "model.safetensors.index.json"])

        let index = try String(contentsOf: directory.file("model.safetensors.index.json"), encoding: .utf8)
        #expect(index == """
            {
              "metadata": {
                "total_size": 184
              },
              "weight_map": {
                "lm_head.weight": "\(second)",
                "model.embed_tokens.weight": "\(first)",
                "model.layers.0.input_layernorm.weight": "\(first)",
                "model.layers.0.mlp.up_proj.weight": "\(second)",
                "model.norm.weight": "\(second)"
              }
            }

            """)

        let weights = try ModelWeights(directory: directory.url)
        #expect(weights.fileNames == [first, second])
        #expect(weights.totalSize == 184)
        #expect(weights.names == tensors.map(\.name).sorted())
        #expect(try weights.fileName(containing: "model.norm.weight") == second)
        #expect(try weights.fileName(containing: "model.embed_tokens.weight") == first)
        for (name, original) in tensors {
            #expect(try backend.floats(weights.tensor(name, on: backend)) == backend.floats(original), "\(name)")
        }
        #expect(try weights.file(containing: "lm_head.weight").metadata == ["format": "pt"])
    }

    @Test func missingKeyNamesTheKeyTheDirectoryAndTheFilesSearched() throws {
        let directory = try TemporaryDirectory()
        try SafetensorsWriter.writeSharded(tensors: try modelTensors(), to: directory.url, maxShardBytes: 100)
        let weights = try ModelWeights(directory: directory.url)
        let error = checkpointError { _ = try weights.tensor("model.layers.1.mlp.up_proj.weight", on: backend) }
        guard case .missingTensor("model.layers.1.mlp.up_proj.weight", _, _)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        expectMessage(error, mentions: ["\"model.layers.1.mlp.up_proj.weight\"", directory.url.path,
                                        "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
    }

    @Test func everythingInOneShardWritesASingleFileAndRemovesAStaleSave() throws {
        let directory = try TemporaryDirectory()
        let tensors = try modelTensors()
        try SafetensorsWriter.writeSharded(tensors: tensors, to: directory.url, maxShardBytes: 50)
        #expect(try directory.contents().count == 5)  // four shards (64 | 32 | 64 | 16 + 8) and the index
        try Data("keep me".utf8).write(to: directory.file("config.json"))

        let written = try SafetensorsWriter.writeSharded(tensors: tensors, to: directory.url, maxShardBytes: 1 << 20)
        #expect(written == ["model.safetensors"])
        #expect(try directory.contents() == ["config.json", "model.safetensors"])
        let weights = try ModelWeights(directory: directory.url)
        #expect(weights.fileNames == ["model.safetensors"])
        #expect(try weights.fileName(containing: "lm_head.weight") == "model.safetensors")
        #expect(try backend.floats(weights.tensor("model.norm.weight", on: backend)) == [9, 8, 7, 6])
    }

    @Test func aTensorLargerThanTheLimitGetsItsOwnShard() throws {
        let directory = try TemporaryDirectory()
        let written = try SafetensorsWriter.writeSharded(tensors: try modelTensors(), to: directory.url, maxShardBytes: 10)
        #expect(written.count == 6)
        #expect(written.last == "model.safetensors.index.json")
        #expect(try ModelWeights(directory: directory.url).fileNames.count == 5)
    }

    @Test func indexNamingAMissingShardIsRefused() throws {
        let directory = try TemporaryDirectory()
        try SafetensorsWriter.writeSharded(tensors: try modelTensors(), to: directory.url, maxShardBytes: 100)
        try FileManager.default.removeItem(at: directory.file("model-00002-of-00002.safetensors"))
        let error = checkpointError { _ = try ModelWeights(directory: directory.url) }
        guard case .invalidIndex(_, "lm_head.weight", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: ["model.safetensors.index.json", "\"lm_head.weight\"", "model-00002-of-00002.safetensors"])
    }

    @Test func indexNamingTheWrongShardIsRefused() throws {
        let directory = try TemporaryDirectory()
        try SafetensorsWriter.writeSharded(tensors: try modelTensors(), to: directory.url, maxShardBytes: 100)
        let index = #"{"metadata":{"total_size":184},"weight_map":{"model.norm.weight":"model-00001-of-00002.safetensors"}}"#
        try Data(index.utf8).write(to: directory.file("model.safetensors.index.json"))
        let error = checkpointError { _ = try ModelWeights(directory: directory.url) }
        guard case .invalidIndex(_, "model.norm.weight", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: ["model.safetensors.index.json", "\"model.norm.weight\"", "no such tensor"])
    }

    @Test func indexWithoutAWeightMapIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Data(#"{"metadata":{}}"#.utf8).write(to: directory.file("model.safetensors.index.json"))
        let error = checkpointError { _ = try ModelWeights(directory: directory.url) }
        guard case .missingField(_, "weight_map", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: ["model.safetensors.index.json", "weight_map"])
    }

    @Test func directoryWithoutWeightsIsRefused() throws {
        let directory = try TemporaryDirectory()
        let error = checkpointError { _ = try ModelWeights(directory: directory.url) }
        guard case .io(_, "open checkpoint", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [directory.url.path, "model.safetensors", "model.safetensors.index.json"])
    }

    @Test func singleFileOfAnyNameOpens() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("adapter_model.safetensors")
        try SafetensorsWriter.write(tensors: try modelTensors(), to: url)
        let weights = try ModelWeights(file: url)
        #expect(try weights.fileName(containing: "lm_head.weight") == "adapter_model.safetensors")
        #expect(try weights.info("model.embed_tokens.weight").shape == [4, 4])
    }
}
