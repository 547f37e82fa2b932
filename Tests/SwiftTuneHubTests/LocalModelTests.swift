import Foundation
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneHub
import SwiftTuneModels
import SwiftTuneTensor
import SwiftTuneTokenizers
import Testing

/// `LocalModel`: one loader for HF folders and GGUF files, and its messages for everything else.
@Suite struct LocalModelTests {
    static let goldenQwen2 = HubFixtures.fixtures.appendingPathComponent("golden/qwen2")

    private func hubError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> HubError? {
        do {
            try body()
            Issue.record("expected a HubError", sourceLocation: sourceLocation)
        } catch let error as HubError {
            return error
        } catch {
            Issue.record("expected a HubError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    /// Writes the golden Qwen2 model (safetensors) as a GGUF with a tiny byte-level tokenizer.
    static func writeTinyGGUF(to url: URL) throws {
        let config = try DecoderConfig.load(from: goldenQwen2)
        let weights = try ModelWeights(directory: goldenQwen2)
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("qwen2"))
        writer.add("general.name", .string("Tiny Qwen2"))
        for (key, value) in [("block_count", config.numHiddenLayers), ("embedding_length", config.hiddenSize),
                             ("feed_forward_length", config.intermediateSize), ("attention.head_count", config.numAttentionHeads),
                             ("attention.head_count_kv", config.numKeyValueHeads), ("context_length", config.maxPositionEmbeddings),
                             ("vocab_size", config.vocabSize)] {
            writer.add("qwen2.\(key)", .uint32(UInt32(value)))
        }
        writer.add("qwen2.attention.layer_norm_rms_epsilon", .float32(Float(config.rmsNormEps)))
        writer.add("qwen2.rope.freq_base", .float32(Float(config.ropeTheta)))
        let tokens = byteLevelCharacters + ["Ġt", "<|im_end|>"]
        writer.add("tokenizer.ggml.model", .string("gpt2"))
        writer.add("tokenizer.ggml.pre", .string("qwen2"))
        writer.add("tokenizer.ggml.tokens", .array(elementType: .string, values: tokens.map { .string($0) }))
        writer.add("tokenizer.ggml.token_type", .array(elementType: .int32, values: tokens.indices.map {
            .int32($0 == tokens.count - 1 ? 3 : 1) }))
        writer.add("tokenizer.ggml.merges", .array(elementType: .string, values: [.string("Ġ t")]))
        writer.add("tokenizer.ggml.eos_token_id", .uint32(UInt32(tokens.count - 1)))
        writer.add("tokenizer.chat_template", .string("{{ messages }}"))
        let backend = CPUBackend()
        for name in weights.names {
            let values = try backend.floats(weights.tensor(name, on: backend, as: .f32))
            try writer.addTensor(try #require(GGUFTensorNames.ggufName(name)), shape: try weights.info(name).shape, values: values)
        }
        try writer.write(to: url)
    }

    @Test func loadsAHuggingFaceFolder() throws {
        #expect(try LocalModel.resolve(path: Self.goldenQwen2) == .huggingFaceFolder(Self.goldenQwen2))
        let loaded = try LocalModel.load(path: Self.goldenQwen2, backend: CPUBackend())
        #expect(loaded.format == .huggingFace && loaded.name == "qwen2" && loaded.source == Self.goldenQwen2)
        #expect(loaded.model.config.modelType == .qwen2)
        #expect(loaded.chatTemplate == loaded.tokenizer.chatTemplate)
    }

    @Test func loadsAGGUFFileAndAFolderHoldingOne() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("tiny.gguf")
        try Self.writeTinyGGUF(to: url)
        let backend = CPUBackend()
        for path in [url, directory.url] {
            #expect(try LocalModel.resolve(path: path) == .gguf(url))
            let loaded = try LocalModel.load(path: path, backend: backend)
            #expect(loaded.format == .gguf && loaded.name == "Tiny Qwen2" && loaded.source == url)
            #expect(loaded.chatTemplate == "{{ messages }}")
            #expect(loaded.tokenizer.encode(" t<|im_end|>", addSpecialTokens: false) == [256, 257])
        }
        // The same weights give the same logits as the HF folder they came from.
        let fromGGUF = try LocalModel.load(path: url, backend: backend).model
        let fromFolder = try LocalModel.load(path: Self.goldenQwen2, backend: backend).model
        let batch = try TokenBatch(sequences: [[1, 5, 9, 2, 7]]).upload(to: backend)
        let a = try backend.floats(fromGGUF.logits(batch)), b = try backend.floats(fromFolder.logits(batch))
        #expect(relativeMaxError(b, a) < 1e-6)
    }

    @Test func namesWhatIsMissingOrWrong() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/model")
        #expect(hubError { _ = try LocalModel.resolve(path: missing) } == .notFound(path: missing.path))

        let llama = HubFixtures.fixtures.appendingPathComponent("golden/llama")  // has no tokenizer.json
        let incomplete = hubError { _ = try LocalModel.resolve(path: llama) }
        #expect(incomplete?.description.contains("missing tokenizer.json") == true)
        #expect(incomplete?.description.contains("config.json, generation_config.json") == true)

        let directory = try TemporaryDirectory()
        let empty = hubError { _ = try LocalModel.resolve(path: directory.url) }
        #expect(empty == .incompleteModelFolder(path: directory.url.path, missing: [
            "config.json", "model.safetensors (or model.safetensors.index.json with its shards)", "tokenizer.json"], found: []))
        #expect(empty?.description.contains("it is empty") == true)

        let config = HubFixtures.fixtures.appendingPathComponent("golden/qwen2/config.json")
        let oneFile = hubError { _ = try LocalModel.resolve(path: config) }
        #expect(oneFile?.description.contains("pass the folder") == true)
        let text = directory.file("notes.txt")
        try Data("hello".utf8).write(to: text)
        #expect(hubError { _ = try LocalModel.resolve(path: text) }?.description.contains("not a GGUF file") == true)

        for name in ["a.gguf", "b.gguf"] { try Data("GGUF".utf8).write(to: directory.file(name)) }
        #expect(hubError { _ = try LocalModel.resolve(path: directory.url) } == .ambiguousLocalGGUF(path: directory.url.path,
                                                                                              files: ["a.gguf", "b.gguf"]))
        // A truncated GGUF is refused by the reader, naming the file.
        do {
            _ = try LocalModel.load(path: directory.file("a.gguf"), backend: CPUBackend())
            Issue.record("expected an error")
        } catch let error as CheckpointError {
            #expect(error.description.contains("a.gguf") && error.description.contains("truncated"))
        }
    }
}
