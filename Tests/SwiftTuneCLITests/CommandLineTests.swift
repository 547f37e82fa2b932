import Foundation
import Testing

/// Runs the built `swift-tune` executable as a user would.
struct CLI {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let tinyModel = root.appendingPathComponent("Tests/Fixtures/golden/qwen2").path

    /// The executable next to the test bundle (`swift build --build-tests` builds it).
    static var executable: URL {
        get throws {
            let candidates = [Bundle.main.bundleURL.deletingLastPathComponent(), root.appendingPathComponent(".build/debug")]
                .map { $0.appendingPathComponent("swift-tune") }
            return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                                "build swift-tune first (swift build --build-tests)")
        }
    }

    struct Result {
        let status: Int32
        let output: String
        let error: String
    }

    static func start(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        process.currentDirectoryURL = root
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    static func run(_ arguments: [String]) throws -> Result {
        let (process, out, err) = try start(arguments)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                      error: String(decoding: error, as: UTF8.self))
    }
}

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct CommandLineTests {
    let base = ["sft", "--model", CLI.tinyModel, "--dataset", "self-cognition#8", "--model_name", "Tiny",
                "--model_author", "Lab", "--max_length", "512", "--device", "cpu", "--lora_rank", "4"]

    @Test func versionAndHelp() throws {
        let version = try CLI.run(["--version"])
        #expect(version.status == 0 && version.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        let help = try CLI.run(["sft", "--help"])
        #expect(help.status == 0 && help.output.contains("--lora_rank") && help.output.contains("--lora-rank"))
    }

    @Test func unknownFlagSuggestsTheClosest() throws {
        let result = try CLI.run(base + ["--lora_rnak", "8"])
        #expect(result.status != 0)
        #expect(result.error.contains("--lora_rnak") && result.error.contains("--lora_rank"), "\(result.error)")
    }

    @Test func badFlagsFailWithClearMessages() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let cases: [([String], String)] = [
            (["--lora_rank", "0"], "lora_rank"),
            (["--warmup_ratio", "0.1", "--warmup_steps", "3"], "warmup_ratio"),
            (["--recompute_num_layers=-1"], "--recompute_num_layers -1: expected 0 or more"),
            (["--train_type", "dora"], "train_type"),
            (["--truncation_strategy", "middle"], "truncation_strategy"),
            (["--quant_bits", "3"], "--quant_bits 3: expected 4"),
            (["--quant_bits", "8"], "8-bit"),
            (["--quant_method", "gptq", "--quant_bits", "4"], "--quant_method gptq: expected bnb"),
            (["--train_type", "qlora", "--bnb_4bit_quant_type", "int4"], "expected nf4 or fp4"),
            (["--bnb_4bit_quant_type", "fp4"], "add --train_type qlora or --quant_bits 4"),
            (["--train_type", "full", "--quant_bits", "4"], "a 4-bit base is frozen"),
            (["--train_type", "qlora", "--bnb_4bit_compute_dtype", "float32", "--torch_dtype", "bfloat16"], "disagree"),
            (["--offload_embedding", "true"], "tie_word_embeddings"),
            (["--offload_embedding", "true", "--train_type", "full"], "a frozen embedding table"),
        ]
        for (extra, needle) in cases {
            let result = try CLI.run(base + ["--output_dir", output.path] + extra)
            #expect(result.status != 0, "\(extra) should fail")
            #expect(result.error.contains(needle), "\(extra): \(result.error)")
        }
        let missing = try CLI.run(["sft", "--model", output.appendingPathComponent("nope").path, "--dataset", "self-cognition"])
        #expect(missing.status != 0 && missing.error.contains("no such file or folder"), "\(missing.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
    }

    /// `--train_type qlora` trains LoRA over an NF4 double-quantized base (quantized as it loads) and records
    /// ms-swift's quantization arguments; `--quant_bits 4 --bnb_4bit_quant_type fp4` is the same with FP4.
    @Test func qloraTrainsOverAFourBitBase() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        for (extra, type) in [(["--train_type", "qlora"], "nf4"),
                              (["--quant_method", "bnb", "--quant_bits", "4", "--bnb_4bit_quant_type", "fp4",
                                "--bnb_4bit_use_double_quant", "false"], "fp4")] {
            let folder = output.appendingPathComponent(type)
            let result = try CLI.run(base + extra + ["--max_steps", "2", "--output_dir", folder.path])
            #expect(result.status == 0, "\(extra): \(result.error)")
            #expect(result.output.contains("quantization: \(type)"), "\(result.output)")
            let run = try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasPrefix("v0-") }
            let arguments = try String(contentsOf: folder.appendingPathComponent("\(run ?? "")/args.json"), encoding: .utf8)
            #expect(arguments.contains("\"quant_bits\": 4") && arguments.contains("\"bnb_4bit_quant_type\": \"\(type)\""),
                    "\(arguments)")
            #expect(arguments.contains("\"bnb_4bit_use_double_quant\": \(type == "nf4")"), "\(arguments)")
            #expect(FileManager.default.fileExists(
                atPath: folder.appendingPathComponent("\(run ?? "")/checkpoint-2/adapter_model.safetensors").path))
        }
    }

    @Test func sftFromAConfigFileWithAnOverride() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let config = output.appendingPathComponent("cfg.yaml")
        try """
            model: \(CLI.tinyModel)
            dataset: [self-cognition#8]
            model_name: Tiny
            model_author: Lab
            max_length: 512
            lora_rank: 4
            max_steps: 4
            save_steps: 2
            device: cpu
            output_dir: \(output.path)/runs
            """.write(to: config, atomically: true, encoding: .utf8)
        let result = try CLI.run(["sft", config.path, "--max_steps", "3"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("last checkpoint:") && result.output.contains("checkpoint-3"), "\(result.output)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent("runs").path)
        #expect(runs.count == 1 && runs[0].hasPrefix("v0-"))
    }

    @Test func interruptSavesACheckpointAndExitsCleanly() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let (process, out, err) = try CLI.start(base + ["--max_steps", "100000", "--save_steps", "100000",
                                                        "--logging_steps", "1", "--output_dir", output.path])
        // Wait for the first log record, then interrupt as Ctrl-C does.
        let deadline = Date().addingTimeInterval(60)
        var log: URL?
        while Date() < deadline, log == nil {
            Thread.sleep(forTimeInterval: 0.2)
            if let run = try? FileManager.default.contentsOfDirectory(atPath: output.path).first {
                let file = output.appendingPathComponent(run).appendingPathComponent("logging.jsonl")
                if let text = try? String(contentsOf: file, encoding: .utf8), !text.isEmpty { log = file }
            }
        }
        let logFile = try #require(log, "training never logged")
        process.interrupt()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(stdout.contains("stopped at step"), "\(stdout)")
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: logFile.deletingLastPathComponent().path)
            .filter { $0.hasPrefix("checkpoint-") }
        #expect(checkpoints.count == 1)
        let folder = logFile.deletingLastPathComponent().appendingPathComponent(checkpoints.first ?? "")
        for file in ["adapter_model.safetensors", "adapter_config.json", "optimizer.safetensors", "trainer_state.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "\(file)")
        }
    }
}
