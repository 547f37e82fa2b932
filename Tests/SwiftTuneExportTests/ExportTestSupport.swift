import Foundation
import SwiftTuneAdapters
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneJSON
import SwiftTuneModels
import SwiftTuneTensor
import Testing

/// Fixtures, temporary folders and helpers shared by the export tests.
enum ExportFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let repository = root.deletingLastPathComponent().deletingLastPathComponent()
    static let golden = root.appendingPathComponent("golden")
    static let export = root.appendingPathComponent("export")
    static let swiftAdapter = root.appendingPathComponent("lora/swift_adapter")
    static let smolLM2 = repository.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    static var writesFixtures: Bool { ProcessInfo.processInfo.environment["SWIFT_TUNE_WRITE_FIXTURES"] == "1" }

    /// A fresh empty folder under the system temporary directory.
    static func temporaryFolder(_ name: String = #function) throws -> URL {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-export-\(safe)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The golden batch of a golden model folder.
    static func goldenSequences(_ model: String, backend: CPUBackend) throws -> [[Int32]] {
        let file = try SafetensorsFile(url: golden.appendingPathComponent("\(model)/golden.safetensors"))
        let shape = try file.info("input_ids").shape
        let ids = try backend.int32s(file.tensor("input_ids", on: backend))
        return (0..<shape[0]).map { Array(ids[$0 * shape[1] ..< ($0 + 1) * shape[1]]) }
    }

    /// Logits `[tokens, vocab]` of `model` on `sequences`, flattened.
    static func logits(_ model: DecoderModel, _ sequences: [[Int32]], backend: CPUBackend) throws -> [Float] {
        try backend.floats(model.logits(TokenBatch(sequences: sequences).upload(to: backend)))
    }

    /// The golden sequences of `family` and the logits of its golden model with `checkpoint`'s adapter attached
    /// (unmerged): what every export of that checkpoint must reproduce.
    static func adapterLogits(family: String, checkpoint: URL, backend: CPUBackend) throws
        -> (sequences: [[Int32]], logits: [Float]) {
        let sequences = try goldenSequences(family, backend: backend)
        let base = try DecoderModel.load(directory: golden.appendingPathComponent(family), backend: backend)
        try LoRAAdapter.load(from: checkpoint, into: base)
        return (sequences, try logits(base, sequences, backend: backend))
    }

    /// A LoRA checkpoint for the llama golden model made in the test: a seeded adapter with non-zero B on every
    /// linear layer, saved with an args.json naming the base, as an sft run leaves it.
    static func llamaCheckpoint(in folder: URL, backend: CPUBackend) throws -> URL {
        try checkpoint(family: "llama", base: golden.appendingPathComponent("llama"), in: folder, backend: backend)
    }

    /// A seeded LoRA checkpoint (r 4, every linear layer, B ~ N(0, 0.05)) for the model in `base`, with the run's
    /// args.json naming `base`.
    static func checkpoint(family: String, base: URL, in folder: URL, backend: CPUBackend) throws -> URL {
        let model = try DecoderModel.load(directory: base, backend: backend)
        try model.attachLoRA(LoRAConfiguration(rank: 4, alpha: 16, dropout: 0), seed: 21, trainable: false)
        var generator = SeededGenerator(seed: 22)
        for (key, parameter) in try model.adapterParameters() where key.contains("lora_B") {
            let values = generator.normals(parameter.value.count, standardDeviation: 0.05)
            try values.withUnsafeBytes { try backend.upload($0, to: parameter.value) }
        }
        let checkpoint = folder.appendingPathComponent("v0-20240101-000000/checkpoint-8")
        try LoRAAdapter.save(from: model, to: checkpoint, baseModelNameOrPath: base.path)
        let args = "{\n  \"model\": \"\(base.path)\",\n  \"template\": \"llama3\",\n  \"train_type\": \"lora\"\n}\n"
        try Data(args.utf8).write(to: checkpoint.deletingLastPathComponent().appendingPathComponent("args.json"))
        try Data(args.utf8).write(to: checkpoint.appendingPathComponent("args.json"))
        return checkpoint
    }

    /// A copy of golden model `family` with a tokenizer: the qwen2 golden's (300 tokens) where the vocabulary is large
    /// enough, else 256 byte tokens without merges (GPT-2's byte alphabet; the GGUF pads the rest).
    static func goldenWithTokenizer(_ family: String, in folder: URL) throws -> URL {
        let base = folder.appendingPathComponent("\(family)-base")
        try FileManager.default.copyItem(at: golden.appendingPathComponent(family), to: base)
        let vocabulary = try DecoderConfig.load(from: base).vocabSize
        if vocabulary >= 300 {
            for name in ["tokenizer.json", "tokenizer_config.json"] {
                try FileManager.default.copyItem(at: golden.appendingPathComponent("qwen2/\(name)"), to: base.appendingPathComponent(name))
            }
            return base
        }
        let kept = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var extra = 0
        var vocab: [String] = []
        for byte in 0..<256 {
            if kept.contains(byte) {
                vocab.append(String(UnicodeScalar(UInt8(byte))))
            } else {
                vocab.append(String(Character(UnicodeScalar(0x100 + extra)!)))
                extra += 1
            }
        }
        let entries = vocab.enumerated().map { "\(JSONText.quoted($0.element)): \($0.offset)" }.joined(separator: ", ")
        let json = """
            {"version": "1.0", "added_tokens": [], "normalizer": null,
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
             "post_processor": null, "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
             "model": {"type": "BPE", "vocab": {\(entries)}, "merges": []}}
            """
        try Data(json.utf8).write(to: base.appendingPathComponent("tokenizer.json"))
        return base
    }

    /// max |a − b| and where, for failure messages.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> (value: Float, index: Int) {
        var worst: Float = 0, index = 0
        for i in 0..<min(a.count, b.count) where abs(a[i] - b[i]) > worst {
            worst = abs(a[i] - b[i])
            index = i
        }
        return (worst, index)
    }

    /// Greedy decoding by repeated uncached forward passes (the generation engine is elsewhere): `steps` argmax tokens.
    static func greedy(_ model: DecoderModel, prompt: [Int32], steps: Int, backend: CPUBackend) throws -> [Int32] {
        var ids = prompt
        let vocabulary = model.config.vocabSize
        for _ in 0..<steps {
            let logits = try logits(model, [ids], backend: backend)
            let last = logits[(ids.count - 1) * vocabulary ..< ids.count * vocabulary]
            guard let best = last.indices.max(by: { last[$0] < last[$1] }) else { break }
            ids.append(Int32(best - last.startIndex))
        }
        return Array(ids[prompt.count...])
    }

    /// Runs `scripts/export/check_gguf.py` with `arguments`; returns stdout, fails the test with stderr on a non-zero exit.
    static func python(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repository.appendingPathComponent("scripts/export/check_gguf.py").path] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: out, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ScriptFailure(message: "check_gguf.py \(arguments.joined(separator: " ")) exited \(process.terminationStatus):\n"
                                    + text + "\n" + String(decoding: err, as: UTF8.self))
        }
        return text
    }
}

/// A helper script that exited with an error (its output is the message).
struct ScriptFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
