import Foundation
import Testing

extension CLI {
    /// Runs the executable with `input` on its standard input (then closed).
    static func run(_ arguments: [String], input: String) throws -> Result {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        process.currentDirectoryURL = root
        let (stdin, out, err) = (Pipe(), Pipe(), Pipe())
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = err
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                      error: String(decoding: error, as: UTF8.self))
    }
}

/// A LoRA checkpoint of the tiny Qwen2, trained once for every test here: `sft` on 8 self-cognition rows with a
/// quarter held out (so the run has `val_dataset.jsonl`), 2 steps.
enum InferCheckpoint {
    /// The run's output folder, removed when the test process exits.
    static let output = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-infer-\(UUID().uuidString)")

    static let made: Swift.Result<URL, any Error> = Swift.Result {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: InferCheckpoint.output) }
        let result = try CLI.run(["sft", "--model", CLI.tinyModel, "--dataset", "self-cognition#8", "--model_name", "T",
                                  "--model_author", "L", "--max_length", "512", "--max_steps", "2", "--lora_rank", "4",
                                  "--gradient_accumulation_steps", "1", "--split_dataset_ratio", "0.25",
                                  "--output_dir", output.path, "--device", "cpu"])
        guard result.status == 0, let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("last checkpoint: ") }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "sft failed: \(result.error)"])
        }
        return URL(fileURLWithPath: String(line.dropFirst("last checkpoint: ".count)))
    }

    static func path() throws -> String { try made.get().path }
}

@Suite struct InferCommandTests {
    @Test func chatsFromAPipeAndExitsWhenStdinCloses() throws {
        let checkpoint = try InferCheckpoint.path()
        let result = try CLI.run(["infer", "--adapters", checkpoint, "--max_new_tokens", "6", "--device", "cpu"],
                                 input: "clear\nWho are you?\nAnd then?\n")
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.components(separatedBy: "<<< ").count - 1 == 4, "\(result.output.debugDescription)")
        // From a pipe the input is echoed after the prompt and the answer starts on the next line.
        #expect(result.output.contains("<<< Who are you?\n") && result.output.contains("<<< And then?\n"),
                "\(result.output.debugDescription)")
        #expect(result.error.contains("template: qwen2_5") && result.error.contains("Input `clear`"), "\(result.error)")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("chat.jsonl")
        let whole = try CLI.run(["infer", "--adapters", checkpoint, "--max_new_tokens", "6", "--stream", "false",
                                 "--result_path", log.path], input: "Hi\nAgain\nquit\nnot read\n")
        #expect(whole.status == 0 && whole.output.components(separatedBy: "<<< ").count - 1 == 3, "\(whole.output)")
        let turns = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(turns.count == 2 && turns[1].contains("\"Again\"") && turns[1].contains("\"Hi\""), "one line per answer, with the history")
    }

    @Test func batchInferenceWritesRowsAndAScore() throws {
        let checkpoint = try InferCheckpoint.path()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let resultPath = folder.appendingPathComponent("out/result.jsonl").path
        let result = try CLI.run(["infer", "--adapters", checkpoint, "--max_new_tokens", "5", "--val_dataset",
                                  "self-cognition#3", "--metric", "rouge", "--max_batch_size", "2", "--logprobs", "true",
                                  "--result_path", resultPath])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("result_path: \(resultPath)") && result.output.contains("rouge: "), "\(result.output)")
        let rows = try String(contentsOfFile: resultPath, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(rows[0].utf8)) as? [String: Any])
        #expect(Set(first.keys) == ["response", "labels", "messages", "logprobs"])
        #expect((first["labels"] as? String)?.contains("T") == true, "the run's --model_name fills self-cognition rows")
        let logprobs = try #require((first["logprobs"] as? [String: Any])?["content"] as? [Any])
        #expect(logprobs.count == 5)

        // --merge_lora true: the adapter added into the weights gives the same greedy answers.
        let mergedPath = folder.appendingPathComponent("merged.jsonl").path
        let merged = try CLI.run(["infer", "--adapters", checkpoint, "--max_new_tokens", "5", "--val_dataset",
                                  "self-cognition#3", "--merge_lora", "true", "--result_path", mergedPath])
        #expect(merged.status == 0 && merged.error.contains("(merged)"), "\(merged.error)")
        func responses(_ path: String) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
                (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["response"] as? String ?? "?"
            }
        }
        #expect(try responses(mergedPath) == responses(resultPath))

        // --load_data_args: the run's held-out rows (2 of 8).
        let split = try CLI.run(["infer", "--adapters", checkpoint, "--max_new_tokens", "3", "--load_data_args", "true",
                                 "--metric", "acc", "--result_path", resultPath])
        #expect(split.status == 0 && split.output.contains("acc: "), "\(split.error)")
        #expect(try String(contentsOfFile: resultPath, encoding: .utf8).split(separator: "\n").count == 2)
    }

    @Test func anAdapterWithoutArgsNeedsModel() throws {
        let checkpoint = URL(fileURLWithPath: try InferCheckpoint.path())
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in ["adapter_config.json", "adapter_model.safetensors"] {
            try FileManager.default.copyItem(at: checkpoint.appendingPathComponent(file), to: folder.appendingPathComponent(file))
        }
        let missing = try CLI.run(["infer", "--adapters", folder.path], input: "")
        #expect(missing.status != 0 && missing.error.contains("args.json") && missing.error.contains("--model"), "\(missing.error)")
        let given = try CLI.run(["infer", "--adapters", folder.path, "--model", CLI.tinyModel, "--max_new_tokens", "2"],
                                input: "Hi\n")
        #expect(given.status == 0, "\(given.error)")
    }

    @Test func anAdapterForAnotherModelNamesTheTensor() throws {
        let checkpoint = try InferCheckpoint.path()
        // The tiny Llama with the Qwen2 fixture's tokenizer: another base model for the same adapter.
        let model = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: model) }
        let llama = CLI.root.appendingPathComponent("Tests/Fixtures/golden/llama")
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: llama.appendingPathComponent(file), to: model.appendingPathComponent(file))
        }
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: CLI.tinyModel).appendingPathComponent(file),
                                             to: model.appendingPathComponent(file))
        }
        let result = try CLI.run(["infer", "--adapters", checkpoint, "--model", model.path], input: "")
        #expect(result.status != 0)
        #expect(result.error.contains("base_model.model.model.layers.0.") && result.error.contains("has shape")
                && result.error.contains("another base model"), "\(result.error)")
    }

    @Test func promptsOverTheContextAreReportedOrTruncated() throws {
        let checkpoint = try InferCheckpoint.path()
        let question = String(repeating: "very long question ", count: 10)
        let refused = try CLI.run(["infer", "--adapters", checkpoint, "--max_model_len", "40", "--max_new_tokens", "2"],
                                  input: question + "\n")
        #expect(refused.status == 0, "the session goes on after the error: \(refused.error)")
        #expect(refused.error.contains("the context holds 40") && refused.error.contains("--truncation_strategy left"),
                "\(refused.error)")
        let kept = try CLI.run(["infer", "--adapters", checkpoint, "--max_model_len", "40", "--max_new_tokens", "2",
                                "--truncation_strategy", "left"], input: question + "\n")
        #expect(kept.status == 0 && !kept.error.contains("Error"), "\(kept.error)")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let batch = try CLI.run(["infer", "--adapters", checkpoint, "--max_model_len", "20", "--val_dataset",
                                 "self-cognition#1", "--result_path", folder.appendingPathComponent("r.jsonl").path])
        #expect(batch.status != 0 && batch.error.contains("the context holds 20"), "\(batch.error)")
    }

    @Test func badFlagsNameTheFlag() throws {
        let cases: [([String], String)] = [
            (["--temperature=-1"], "--temperature -1.0"),
            (["--top_p", "1.5"], "--top_p 1.5"),
            (["--top_p", "0"], "--top_p 0.0"),
            (["--min_p=-0.1"], "--min_p"),
            (["--repetition_penalty", "0"], "--repetition_penalty"),
            (["--top_logprobs", "3"], "--logprobs true"),
            (["--max_new_tokens", "0"], "--max_new_tokens"),
            (["--metric", "bleu", "--val_dataset", "x.jsonl"], "--metric bleu"),
            (["--truncation_strategy", "right"], "--truncation_strategy right"),
            (["--adapters", "a", "b"], "one adapter"),
        ]
        for (flags, needle) in cases {
            let result = try CLI.run(["infer", "--model", CLI.tinyModel] + flags, input: "")
            #expect(result.status != 0 && result.error.contains(needle), "\(flags): \(result.error)")
        }
        let missing = try CLI.run(["infer", "--adapters", "/nonexistent/checkpoint-1"], input: "")
        #expect(missing.status != 0 && missing.error.contains("does not exist"), "\(missing.error)")
    }

    /// Starts a detached tmux session running `command`. The tmux server it forks lives on, so it is spawned clean:
    /// no descriptor of this process but /dev/null on 0–2 (Foundation's `Process` waits for EOF on an inherited one
    /// to see its child exit, and other tests wait for EOF on their pipes: bash closes the rest before it becomes
    /// tmux), and no blocked signals (the test runner's threads block most of them, and a tmux server that
    /// inherits that mask never sees its children exit and ignores kill-server).
    func startSession(tmux: String, socket: String, command: String) throws {
        let quoted = command.replacingOccurrences(of: "'", with: "'\\''")
        let script = #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done; "#
            + "exec '\(tmux)' -L '\(socket)' new-session -d -s infer -x 160 -y 40 '\(quoted)'"
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGINT, SIGTERM, SIGCHLD, SIGPIPE, SIGWINCH, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = ["/bin/bash", "-c", script]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let status = posix_spawn(&pid, "/bin/bash", &actions, &attributes, &argv, environ)
        guard status == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "posix_spawn bash: \(status)"])
        }
        var exit: Int32 = 0
        waitpid(pid, &exit, 0)
    }

    /// The interactive session on a terminal, driven through tmux: `clear`, a question, `quit`.
    @Test func interactiveSessionInATerminal() throws {
        guard let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first(where: FileManager.default.isExecutableFile) else {
            Issue.record("tmux is not installed: this test drives the interactive session through it (apt-get install -y tmux)")
            return
        }
        let checkpoint = try InferCheckpoint.path()
        let socket = "swift-tune-test-\(ProcessInfo.processInfo.processIdentifier)"
        func run(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tmux)
            process.arguments = ["-L", socket] + arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        func screen() throws -> String { try run(["capture-pane", "-p", "-t", "infer"]) }
        func waitFor(_ condition: (String) -> Bool, _ what: String) throws -> String {
            let deadline = Date().addingTimeInterval(120)  // generous: CI machines are shared
            var text = ""
            while Date() < deadline {
                text = try screen()
                if condition(text) { return text }
                Thread.sleep(forTimeInterval: 0.1)
            }
            let pane = (try? run(["display-message", "-p", "-t", "infer", "dead #{pane_dead} status #{pane_dead_status} pid #{pane_pid}"])) ?? "no tmux server"
            Issue.record("timed out waiting for \(what) (pane: \(pane.trimmingCharacters(in: .whitespacesAndNewlines))); the screen:\n\(text)")
            return text
        }
        func prompts(_ text: String) -> Int { text.components(separatedBy: "<<<").count - 1 }
        // The shell prints the exit status: tmux 3.3 can mark a pane dead at the terminal's EOF and then never
        // record the status of the process.
        let command = "cd '\(CLI.root.path)' && '\(try CLI.executable.path)' infer --adapters '\(checkpoint)' "
            + "--max_new_tokens 8 --device cpu; echo \"[exit status $?]\"; sleep 600"
        try startSession(tmux: tmux, socket: socket, command: command)
        defer {
            _ = try? run(["kill-server"])
            try? FileManager.default.removeItem(atPath: "/tmp/tmux-\(getuid())/\(socket)")
        }
        _ = try waitFor({ prompts($0) == 1 }, "the first prompt")
        _ = try run(["send-keys", "-t", "infer", "clear", "Enter"])
        _ = try waitFor({ prompts($0) == 2 }, "the prompt after clear")
        _ = try run(["send-keys", "-t", "infer", "Who are you?", "Enter"])
        let answered = try waitFor({ prompts($0) == 3 }, "the answer and the next prompt")
        _ = try run(["send-keys", "-t", "infer", "quit", "Enter"])
        let ended = try waitFor({ $0.contains("[exit status") }, "the session to end")
        #expect(answered.contains("Input `clear` to clear the history.") && answered.contains("<<< clear")
                && answered.contains("<<< Who are you?"), "\(answered)")
        #expect(ended.contains("<<< quit"), "\(ended)")
        #expect(ended.contains("[exit status 0]"), "\(ended)")
    }
}
