import Foundation
import Testing

/// What a new user meets first: every ms-swift subcommand answers, `tokenize` takes what `infer` takes, and the
/// common mistakes (a missing model, no GPU, a bad dataset line) get one clear message each.
@Suite struct FirstRunTests {
    @Test func everyMsSwiftSubcommandIsListed() throws {
        let help = try CLI.run(["--help"])
        for command in ["sft", "pt", "rlhf", "infer", "export", "merge-lora", "deploy", "sample", "eval", "web-ui", "app"] {
            #expect(help.output.contains("\n  \(command) "), "swift-tune --help lacks \(command)")
        }
    }

    @Test func mergeLoRAIsExportWithMergeLoRA() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("merged").path
        let result = try CLI.run(["merge-lora", "--adapters", ExportCommandTests.adapter, "--model", CLI.tinyModel,
                                  "--output_dir", output])
        #expect(result.status == 0 && result.output.contains("merged model: \(output)"), "\(result.output)\(result.error)")
        #expect(FileManager.default.fileExists(atPath: output + "/model.safetensors"))
    }

    @Test func sampleWritesSeveralReproducibleAnswersPerRow() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["sample", "--model", CLI.tinyModel, "--dataset", CLI.root.path + "/examples/data/math_prompts.jsonl#2",
                         "--num_return_sequences", "3", "--max_new_tokens", "6", "--device", "cpu",
                         "--output_dir", folder.path]
        let first = try CLI.run(arguments + ["--output_file", "a.jsonl"])
        #expect(first.status == 0 && first.output.contains("sampled 6 answers"), "\(first.output)\(first.error)")
        let second = try CLI.run(arguments + ["--output_file", "b.jsonl"])
        #expect(second.status == 0, "\(second.error)")
        let a = try String(contentsOf: folder.appendingPathComponent("a.jsonl"), encoding: .utf8)
        let b = try String(contentsOf: folder.appendingPathComponent("b.jsonl"), encoding: .utf8)
        let lines = a.split(separator: "\n")
        #expect(lines.count == 6 && a == b, "same seeds, same answers")
        // Each line is a whole conversation ending with the sampled answer; the three answers of a row differ.
        let rows = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        let answers = rows.prefix(3).compactMap { (($0["messages"] as? [[String: Any]])?.last?["content"]) as? String }
        #expect(rows.allSatisfy { (($0["messages"] as? [[String: Any]])?.last?["role"] as? String) == "assistant" })
        #expect(Set(answers).count > 1, "\(answers)")
        #expect(rows.map { $0["row"] as? Int } == [0, 0, 0, 1, 1, 1] && rows.map { $0["sequence"] as? Int } == [0, 1, 2, 0, 1, 2])

        let orm = try CLI.run(["sample", "--model", CLI.tinyModel, "--dataset", "x.jsonl", "--orm_model", "math"])
        #expect(orm.status == 64 && orm.error.contains("--orm_model") && orm.error.contains("not available yet"), "\(orm.error)")
        let mcts = try CLI.run(["sample", "--model", CLI.tinyModel, "--dataset", "x.jsonl", "--sampler_type", "mcts"])
        #expect(mcts.status == 64 && mcts.error.contains("--sampler_type mcts"), "\(mcts.error)")
    }

    @Test func tokenizeTakesFoldersGGUFFilesAndCheckpoints() throws {
        let folder = try CLI.run(["tokenize", "--model", CLI.tinyModel, "--text", "Hello world", "--json"])
        #expect(folder.status == 0 && folder.output.hasPrefix("["), "\(folder.error)")
        let spm = CLI.root.appendingPathComponent("Tests/Fixtures/gguf/spm_tokenizer.gguf").path
        let gguf = try CLI.run(["tokenize", "--model", spm, "--text", "Hello world"])
        #expect(gguf.status == 0 && !gguf.output.isEmpty, "\(gguf.error)")
        // A LoRA checkpoint has no tokenizer of its own: its run's base model's is used.
        let checkpoint = try InferCheckpoint.path()
        let fromCheckpoint = try CLI.run(["tokenize", "--model", checkpoint, "--text", "Hello world", "--json"])
        #expect(fromCheckpoint.status == 0 && fromCheckpoint.output == folder.output, "\(fromCheckpoint.error)")
        let plain = try CLI.run(["tokenize", "--model", CLI.tinyModel, "--text", "Hello world", "--add_special_tokens", "false"])
        #expect(plain.status == 0, "\(plain.error)")
    }

    @Test func aMissingModelIsOneMessageWithOneHintEverywhere() throws {
        let missing = "no/such/model-folder"
        let commands: [[String]] = [
            ["sft", "--model", missing, "--dataset", "self-cognition#4", "--device", "cpu"],
            ["infer", "--model", missing, "--device", "cpu"],
            ["export", "--model", missing, "--to_gguf", "true"],
            ["deploy", "--model", missing, "--device", "cpu"],
        ]
        for arguments in commands {
            let result = try CLI.run(arguments)
            let error = result.error.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
            #expect(result.status != 0 && error == ["Error: \(missing): no such file or folder (hint: --model takes an HF model "
                + "folder (config.json, *.safetensors, tokenizer.json), a .gguf file or a hub id ORG/NAME)"],
                    "\(arguments[0]): \(result.error)")
        }
    }

    @Test func noGPUIsOneLineAndVerboseListsThePaths() throws {
        let quiet = try CLI.run(["infer", "--model", CLI.tinyModel, "--device", "cuda"], input: "")
        // Only where this machine has no usable CUDA (CI); on a GPU machine the command simply starts.
        guard quiet.error.contains("CUDA backend unavailable") else { return }
        let lines = quiet.error.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1 && lines[0].contains("--verbose true lists every path searched"), "\(quiet.error)")
        let verbose = try CLI.run(["infer", "--model", CLI.tinyModel, "--device", "cuda", "--verbose", "true"], input: "")
        #expect(verbose.error.contains("searched:") && verbose.error.split(separator: "\n").count > 3, "\(verbose.error)")
    }

    @Test func aBadDatasetLineIsNamedAndTheSkipIsSummarised() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("rows.jsonl")
        try (#"{"instruction": "a", "output": "b"}"# + "\n" + #"{"instruction": "c", "output": "cut inside"# + "\n"
            + #"{"instruction": "e", "output": "f"}"# + "\n").write(to: data, atomically: true, encoding: .utf8)
        let result = try CLI.run(["sft", "--model", CLI.tinyModel, "--dataset", data.path, "--max_steps", "1", "--device", "cpu",
                                  "--output_dir", folder.appendingPathComponent("out").path])
        let all = result.output + result.error
        #expect(result.status == 0, "\(all)")
        #expect(all.contains("rows.jsonl:2: malformed JSON") && all.contains("in the value of output"), "\(all)")
        #expect(all.contains("1 bad row was skipped") && all.contains("--strict true stops at the first instead"), "\(all)")
    }
}
