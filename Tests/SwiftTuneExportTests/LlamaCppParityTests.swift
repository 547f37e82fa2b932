import Foundation
import SwiftTuneAdapters
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneExport
import SwiftTuneHub
import SwiftTuneJSON
import SwiftTuneModels
import SwiftTuneTensor
import SwiftTuneTestSupport
import Testing

/// llama.cpp (PyPI llama-cpp-python, scripts/setup_llama_cpp.sh) and swift-tune pick the same greedy tokens from
/// GGUFs exported here: the tiny qwen2 golden with its adapter merged (f32), and the real SmolLM2-135M-Instruct
/// GGUF with a LoRA merged and re-quantized to Q8_0. swift-tune decodes by repeated uncached forward passes.
@Suite(.serialized) struct LlamaCppParityTests {
    let backend = CPUBackend()

    static func llamaCppGreedy(_ file: URL, prompt: [Int32], steps: Int, text: String? = nil) throws -> (tokens: [Int32], text: [Int32]?) {
        var arguments = ["greedy", file.path, "--prompt", prompt.map(String.init).joined(separator: ","), "--steps", "\(steps)"]
        if let text { arguments += ["--text", text] }
        let output = try ExportFixtures.python(arguments)
        let json = try JSONParser.parse(output)
        let tokens = (json["tokens"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) }
        let textTokens = json["text_tokens"]?.arrayValue.map { $0.compactMap { $0.intValue.map(Int32.init) } }
        return (tokens, textTokens)
    }

    @Test func tinyQwen2() async throws {
        let backend = backend
        let (prompt, ours, theirs) = try await onOwnThread {
            let folder = try ExportFixtures.temporaryFolder("tinyQwen2")
            defer { try? FileManager.default.removeItem(at: folder) }
            var options = ExportOptions(adapters: ExportFixtures.swiftAdapter, model: ExportFixtures.golden.appendingPathComponent("qwen2"))
            options.toGGUF = true
            options.ggufType = .f32
            options.outputDirectory = folder.appendingPathComponent("gguf")
            guard let file = try Exporter(backend: backend).run(options).ggufFile else { throw ScriptFailure(message: "no GGUF") }
            let prompt = Array(try ExportFixtures.goldenSequences("qwen2", backend: backend)[0].prefix(6))
            let ours = try ExportFixtures.greedy(DecoderModel.load(gguf: file, backend: backend), prompt: prompt, steps: 16, backend: backend)
            return (prompt, ours, try Self.llamaCppGreedy(file, prompt: prompt, steps: 16).tokens)
        }
        #expect(ours == theirs, "greedy tokens after \(prompt): swift-tune \(ours), llama.cpp \(theirs)")
    }

    /// The tiny llama golden (Llama 3 RoPE scaling → rope_freqs.weight, q/k rows permuted) with a merged adapter.
    @Test func tinyLlama() async throws {
        let backend = backend
        let (prompt, ours, theirs) = try await onOwnThread {
            let folder = try ExportFixtures.temporaryFolder("tinyLlama")
            defer { try? FileManager.default.removeItem(at: folder) }
            let base = folder.appendingPathComponent("llama-base")
            try FileManager.default.copyItem(at: ExportFixtures.golden.appendingPathComponent("llama"), to: base)
            for name in ["tokenizer.json", "tokenizer_config.json"] {  // the llama golden has none: lend it qwen2's
                try FileManager.default.copyItem(at: ExportFixtures.golden.appendingPathComponent("qwen2/\(name)"),
                                                 to: base.appendingPathComponent(name))
            }
            var options = ExportOptions(adapters: try ExportFixtures.llamaCheckpoint(in: folder, backend: backend), model: base)
            options.toGGUF = true
            options.ggufType = .f32
            guard let file = try Exporter(backend: backend).run(options).ggufFile else { throw ScriptFailure(message: "no GGUF") }
            let prompt = Array(try ExportFixtures.goldenSequences("llama", backend: backend)[0].prefix(6))
            let ours = try ExportFixtures.greedy(DecoderModel.load(gguf: file, backend: backend), prompt: prompt, steps: 16, backend: backend)
            return (prompt, ours, try Self.llamaCppGreedy(file, prompt: prompt, steps: 16).tokens)
        }
        #expect(ours == theirs, "greedy tokens after \(prompt): swift-tune \(ours), llama.cpp \(theirs)")
    }

    /// What the SmolLM2 run found, checked back on the test's task.
    struct SmolLM2Run: Sendable {
        var file: URL, ggufFolder: String, mergedFolder: String, notes: [String]
        var mergedTokenizerAgrees: Bool, mergedTemplateAgrees: Bool, mergedTied: Bool, mergedError: Double
        var prompt: [Int32], ours: [Int32], theirs: [Int32], theirPrompt: [Int32]?, oursText: String, theirsText: String
        var modelfile: String
    }

    @Test func smolLM2WithMergedLoRAAsQ8_0() async throws {
        try #require(FileManager.default.fileExists(atPath: ExportFixtures.smolLM2.path),
                     "\(ExportFixtures.smolLM2.path) is missing: run scripts/fetch_test_models.sh")
        let folder = try ExportFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let backend = backend
        let run = try await onOwnThread { () throws -> SmolLM2Run in
            // A small seeded adapter on q_proj and v_proj, saved as a run would save it.
            let base = try LocalModel.load(path: ExportFixtures.smolLM2, backend: backend)
            try base.model.attachLoRA(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0, targets: .names(["q_proj", "v_proj"])),
                                      seed: 5, trainable: false)
            var generator = SeededGenerator(seed: 6)
            for (key, parameter) in try base.model.adapterParameters() where key.contains("lora_B") {
                let values = generator.normals(parameter.value.count, standardDeviation: 0.01)
                try values.withUnsafeBytes { try backend.upload($0, to: parameter.value) }
            }
            let checkpoint = folder.appendingPathComponent("checkpoint-1")
            try LoRAAdapter.save(from: base.model, to: checkpoint, baseModelNameOrPath: ExportFixtures.smolLM2.path)
            try Data("{\"model\": \"\(ExportFixtures.smolLM2.path)\"}".utf8).write(to: checkpoint.appendingPathComponent("args.json"))

            var options = ExportOptions(adapters: checkpoint)
            options.toOllama = true
            options.mergeLoRA = true
            options.ggufType = .q8_0
            let result = try Exporter(backend: backend).run(options)
            guard let file = result.ggufFile, let merged = result.mergedFolder, let modelfile = result.modelfile else {
                throw ScriptFailure(message: "export wrote no GGUF, merged folder or Modelfile")
            }
            let exported = try LocalModel.load(path: file, backend: backend)
            let text = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
            let prompt = exported.tokenizer.encode(text, addSpecialTokens: false)
            // The merged HF folder of a GGUF base (dequantized, merged in f32) has a config.json and a tokenizer.json
            // built from the GGUF, and gives the logits of the GGUF base with the adapter attached.
            let reloaded = try LocalModel.load(path: merged, backend: backend)
            let unmerged = try ExportFixtures.logits(base.model, [prompt], backend: backend)
            let mergedLogits = try ExportFixtures.logits(reloaded.model, [prompt], backend: backend)
            let ours = try ExportFixtures.greedy(exported.model, prompt: prompt, steps: 16, backend: backend)
            let theirs = try Self.llamaCppGreedy(file, prompt: prompt, steps: 16, text: text)
            return SmolLM2Run(
                file: file, ggufFolder: file.deletingLastPathComponent().lastPathComponent,
                mergedFolder: merged.lastPathComponent, notes: result.notes,
                mergedTokenizerAgrees: reloaded.tokenizer.encode(text, addSpecialTokens: false) == prompt,
                mergedTemplateAgrees: reloaded.chatTemplate == base.chatTemplate,
                mergedTied: reloaded.model.config.tieWordEmbeddings, mergedError: relativeMaxError(unmerged, mergedLogits),
                prompt: prompt, ours: ours, theirs: theirs.tokens, theirPrompt: theirs.text,
                oursText: exported.tokenizer.decode(ours, skipSpecialTokens: false),
                theirsText: exported.tokenizer.decode(theirs.tokens, skipSpecialTokens: false),
                modelfile: try String(contentsOf: modelfile, encoding: .utf8))
        }
        #expect(run.ggufFolder == "checkpoint-1-ollama" && run.mergedFolder == "checkpoint-1-merged")
        #expect(run.notes.isEmpty, "\(run.notes)")
        #expect(run.mergedTokenizerAgrees && run.mergedTemplateAgrees && run.mergedTied)
        #expect(run.mergedError <= 1e-5, "merged HF folder vs GGUF + adapter: relative error \(run.mergedError)")
        #expect(run.theirPrompt == run.prompt, "tokenization: llama.cpp \(run.theirPrompt ?? []), swift-tune \(run.prompt)")
        #expect(run.ours == run.theirs, """
            greedy tokens: swift-tune \(run.ours) "\(run.oursText)", llama.cpp \(run.theirs) "\(run.theirsText)"
            """)
        #expect(run.modelfile.hasPrefix("FROM ./model.gguf\n") && run.modelfile.contains("PARAMETER stop \"<|im_end|>\""))
        try await GGUFManifest.check(run.file)  // every tensor and the 49,152-token vocabulary read back alike by gguf-py
    }
}
