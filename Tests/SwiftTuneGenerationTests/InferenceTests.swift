import Foundation
import Testing
import SwiftTuneChat
import SwiftTuneCPU
import SwiftTuneData
import SwiftTuneEngine
@testable import SwiftTuneGeneration
import SwiftTuneRunFiles

@Suite("Inference: chat sessions, run folders, batch inference")
struct InferenceTests {
    @Test func interactiveCommandsFollowMsSwift() {
        var chat = InteractiveChat()
        #expect(chat.prompt == "<<< ")
        #expect(chat.submit("  ") == .handled(message: nil))
        guard case let .generate(first) = chat.submit("Hi") else { Issue.record("no generation"); return }
        #expect(first.messages == [.user("Hi")] && first.system == nil)
        chat.record(response: "Hello")
        guard case let .generate(second) = chat.submit("Again") else { Issue.record("no generation"); return }
        #expect(second.messages == [.user("Hi"), .assistant("Hello"), .user("Again")], "history is kept")
        chat.record(response: "Sure")
        #expect(chat.submit(" CLEAR ") == .handled(message: nil) && chat.messages.isEmpty)
        #expect(chat.submit("reset-system") == .handled(message: nil) && chat.prompt == "<<<[S] ")
        _ = chat.submit("You are terse.")
        #expect(chat.system == "You are terse." && chat.prompt == "<<< ")
        guard case .handled(let note?) = chat.submit("multi-line") else { Issue.record("no note"); return }
        #expect(note.contains("#") && chat.prompt == "<<<[M] ")
        #expect(chat.submit("line one") == .handled(message: nil) && chat.prompt == "")
        guard case let .generate(multi) = chat.submit("line two#") else { Issue.record("no generation"); return }
        #expect(multi.messages.last == .user("line one\nline two") && multi.system == "You are terse.")
        chat.record(response: "ok")
        _ = chat.submit("single-line#")  // still in multi-line mode: the command ends with `#` too
        #expect(!chat.isMultiLine)
        _ = chat.submit("reset-system")
        _ = chat.submit("default-system")
        #expect(chat.system == nil && chat.messages.isEmpty)
        #expect(chat.submit("quit") == .exit && chat.submit("EXIT") == .exit)
        var single = InteractiveChat(keepsHistory: false)
        _ = single.submit("a")
        single.record(response: "b")
        guard case let .generate(only) = single.submit("c") else { Issue.record("no generation"); return }
        #expect(only.messages == [.user("c")], "single-round templates forget the history")
    }

    @Test func flagsOverTheModelsGenerationConfigAsMsSwiftResolvesThem() throws {
        var defaults = GenerationDefaults()
        #expect(defaults.config(applying: SamplingFlags()).temperature == 0, "do_sample false: greedy")
        #expect(defaults.config(applying: SamplingFlags(temperature: 0.7)).topK == 50, "HF's default top_k")
        defaults.doSample = true
        defaults.temperature = 0.6
        defaults.topP = 0.9
        let config = defaults.config(applying: SamplingFlags(topK: 5, seed: 3))
        #expect(config.temperature == 0.6 && config.topP == 0.9 && config.topK == 5 && config.seed == 3)
        #expect(defaults.config(applying: SamplingFlags(temperature: 0)).isSampling == false)
        let fixture = try GenerationDefaults(directory: qwen2Folder)
        #expect(fixture.eosTokenIDs == [2] && !fixture.doSample)
    }

    @Test func runArgumentsAreFoundInTheCheckpointOrItsParent() throws {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        let checkpoint = run.appendingPathComponent("checkpoint-2")
        try FileManager.default.createDirectory(at: checkpoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: run) }
        #expect(try RunArguments.find(near: checkpoint) == nil)
        try Data(#"{"model": "\#(qwen2Folder.path)", "template": "qwen", "system": "Be brief.", "output_dir": "/nope"}"#.utf8)
            .write(to: run.appendingPathComponent("args.json"))
        let found = try #require(try RunArguments.find(near: checkpoint))
        #expect(found.template == "qwen" && found.system == "Be brief." && found.runFolder.path == run.path)
        #expect(try found.modelFolder() == qwen2Folder)
        #expect(found.validationFile == run.appendingPathComponent("val_dataset.jsonl"))
        #expect(throws: GenerationError.self) { try BatchInference.validationRows(of: found) }
    }

    @Test func anAdapterWithoutArgsNeedsTheModelFlag() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adapter-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: swiftAdapter, to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try Inference.load(InferenceOptions(adapter: folder), backend: CPUBackend(threadCount: 2))
            Issue.record("loaded without a model")
        } catch let error as GenerationError {
            #expect(error.description.contains("args.json") && error.description.contains("--model"), "\(error)")
        }
        let inference = try Inference.load(InferenceOptions(model: qwen2Folder, adapter: folder),
                                           backend: CPUBackend(threadCount: 2))
        #expect(inference.engine.model.loraConfiguration != nil)
    }

    @Test func chatPromptsUseTheTemplateAndItsStops() throws {
        var options = InferenceOptions(model: qwen2Folder)
        options.system = "Be brief."
        options.sampling = SamplingFlags(maxNewTokens: 6)
        options.stopWords = ["zz"]
        let inference = try Inference.load(options, backend: CPUBackend(threadCount: 2))
        let ids = try inference.promptIDs(for: Conversation(messages: [.user("Hi")]))
        #expect(inference.tokenizer.decode(ids, skipSpecialTokens: false)
            == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let imEnd = try #require(inference.tokenizer.tokenID("<|im_end|>"))
        let endOfText = try #require(inference.tokenizer.tokenID("<|endoftext|>"))
        #expect(inference.generationConfig.stopTokenIDs == [imEnd, endOfText])
        #expect(inference.generationConfig.stopStrings == ["zz"])
        var deltas = ""
        let result = try inference.respond(to: Conversation(messages: [.user("Hi")])) { deltas += $0 }
        #expect(result.text == deltas && result.tokenIDs.count <= 6)
    }

    @Test func batchRowsLoseTheirLastAnswerToTheLabels() throws {
        let row = DatasetRow(conversation: Conversation(system: "S", messages: [.user("q1"), .assistant("a1"), .user("q2"),
                                                                              .assistant("a2")]))
        let (conversation, labels) = BatchInference.split(row)
        #expect(labels == "a2" && conversation.messages.count == 3 && conversation.system == "S")
        #expect(BatchInference.split(DatasetRow(conversation: Conversation(messages: [.user("q")]))).labels == nil)
    }

    /// Regression: `infer --val_dataset` refused rows without an answer ("empty assistant answer"); they are prompts.
    @Test func batchRowsWithoutAnswersArePrompts() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("prompts-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("""
            {"messages": [{"role": "user", "content": "hi"}]}
            {"query": "hello"}
            {"query": "q", "response": "r"}
            {"messages": [{"role": "user", "content": "  "}]}

            """.utf8).write(to: file)
        let rows = try BatchInference.rows([DatasetSpec(source: .path(file.path), raw: file.path)])
        #expect(rows.map { BatchInference.split($0).conversation.messages.last?.content } == ["hi", "hello", "q"])
        #expect(rows.map { BatchInference.split($0).labels } == [nil, nil, "r"])  // the blank prompt was dropped
    }

    /// Regression: an atomic write renames a temporary file over the target, which must never happen to a device
    /// such as `/dev/null` (`--result_path /dev/null` once replaced it with a regular file).
    @Test func devicesAreWrittenInPlaceNeverReplaced() throws {
        #expect(BatchInference.isSpecialFile(URL(fileURLWithPath: "/dev/null")))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("records-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(!BatchInference.isSpecialFile(file))
        let record = InferenceRecord(response: "r", labels: nil, messages: [.user("q")], logprobs: nil)
        try BatchInference.append([record], to: file)
        try BatchInference.append([record], to: file)
        #expect(try String(contentsOf: file, encoding: .utf8)
            == String(repeating: #"{"messages":[{"content":"q","role":"user"}],"response":"r"}"# + "\n", count: 2))
    }

    @Test func metricsAreExactMatchAndRougeLOnWhitespaceTokens() {
        #expect(InferenceMetric.acc.score([("a b ", "a b"), ("x", "y"), ("z", nil)]) == 0.5)
        // LCS("the cat sat", "the cat was here") = 2: P = 2/3, R = 2/4, F = 4/7.
        #expect(abs(InferenceMetric.rougeL("the cat sat", "the cat was here") - 4.0 / 7) < 1e-12)
        #expect(InferenceMetric.rougeL("a b", "c d") == 0 && InferenceMetric.rougeL("", "") == 1)
        #expect(InferenceMetric.rouge.score([("q", nil)]) == nil)
    }
}
