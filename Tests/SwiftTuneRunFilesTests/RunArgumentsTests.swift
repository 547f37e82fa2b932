import Foundation
import Testing
import SwiftTuneJSON
@testable import SwiftTuneRunFiles

@Suite struct RunArgumentsTests {
    /// An excerpt of an args.json as ms-swift 3 writes it (`json.dump(..., ensure_ascii=False, indent=2)`): keys in
    /// dataclass order, most of them unknown to swift-tune, nested values, nulls, floats in `repr` form.
    static let msSwiftFile = """
        {
          "model": "Qwen/Qwen2.5-0.5B-Instruct",
          "model_type": "qwen2_5",
          "model_revision": null,
          "task_type": "causal_lm",
          "torch_dtype": "bfloat16",
          "attn_impl": null,
          "rope_scaling": null,
          "device_map": null,
          "max_memory": {},
          "model_kwargs": {},
          "template": "qwen2_5",
          "system": "你是一个乐于助人的助手。",
          "max_length": 2048,
          "truncation_strategy": "delete",
          "dataset": [
            "AI-ModelScope/alpaca-gpt4-data-zh#500",
            "swift/self-cognition#500"
          ],
          "split_dataset_ratio": 0.01,
          "model_name": [
            "小黄",
            "Xiao Huang"
          ],
          "model_author": "魔搭",
          "learning_rate": 0.0001,
          "weight_decay": 0.1,
          "adam_epsilon": 1e-08,
          "num_train_epochs": 1.0,
          "lora_target_modules": [
            "all-linear"
          ],
          "use_liger_kernel": false,
          "adapters": [],
          "output_dir": "/home/user/output/v0-20250101-120000"
        }

        """

    @Test func anMsSwiftFileReadsItsKeysAndWritesBackByteForByte() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("args.json")
        try Data(Self.msSwiftFile.utf8).write(to: url)
        let arguments = try RunArguments(contentsOf: url)
        #expect(arguments.model == "Qwen/Qwen2.5-0.5B-Instruct" && arguments.template == "qwen2_5")
        #expect(arguments.system == "你是一个乐于助人的助手。" && arguments.torchDtype == "bfloat16")
        #expect(arguments.modelName == ["小黄", "Xiao Huang"] && arguments.modelAuthor == ["魔搭"])
        #expect(arguments.adapters.isEmpty && arguments.trainType == nil)
        #expect(arguments["use_liger_kernel"] == .bool(false) && arguments["max_memory"] == .object([]))
        #expect(arguments.text == Self.msSwiftFile)
        try arguments.write(to: folder.appendingPathComponent("copy.json"))
        #expect(try String(contentsOf: folder.appendingPathComponent("copy.json"), encoding: .utf8) == Self.msSwiftFile)
    }

    @Test func aKeyOfTheWrongTypeNamesTheFileAndKey() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("args.json")
        try Data(#"{"model": "m", "template": 3}"#.utf8).write(to: url)
        #expect(throws: RunFileError.wrongType(path: url.path, key: "template", expected: "a string", got: "3")) {
            try RunArguments(contentsOf: url)
        }
        try Data(#"{"model_name": ["a", 1]}"#.utf8).write(to: url)
        do {
            _ = try RunArguments(contentsOf: url)
            Issue.record("a list holding a number was accepted as model_name")
        } catch {
            #expect(error.description.contains(url.path) && error.description.contains("\"model_name\""), "\(error)")
        }
        try Data("[1, 2]".utf8).write(to: url)
        #expect(throws: RunFileError.self) { try RunArguments(contentsOf: url) }
        try Data("{\"model\": ".utf8).write(to: url)
        do {
            _ = try RunArguments(contentsOf: url)
            Issue.record("truncated JSON was accepted")
        } catch {
            #expect(error.description.contains("not valid JSON") && error.description.contains("--model"), "\(error)")
        }
        // Null is Python's None: absent.
        try Data(#"{"model": "m", "system": null}"#.utf8).write(to: url)
        #expect(try RunArguments(contentsOf: url).system == nil)
    }

    @Test func settingKeepsPlacesOrMovesToTheEnd() throws {
        var arguments = try RunArguments(file: URL(fileURLWithPath: "/tmp/args.json"),
                                         members: [JSONMember(key: "b", value: 1), JSONMember(key: "model", value: "x"),
                                                   JSONMember(key: "a", value: 2)])
        try arguments.set("b", 3)
        try arguments.set("model", "y", movingToEnd: true)
        try arguments.set("c", .array([]))
        #expect(arguments.members.map(\.key) == ["b", "a", "model", "c"] && arguments.model == "y")
        #expect(throws: RunFileError.self) { try arguments.set("template", .bool(true)) }
        arguments.sortKeys()
        #expect(arguments.text == "{\n  \"a\": 2,\n  \"b\": 3,\n  \"c\": [],\n  \"model\": \"y\"\n}\n")
    }

    @Test func encodableArgumentsUseSnakeCaseKeysAndSkipNils() throws {
        struct Flags: Encodable {
            var learningRate: Double? = nil
            var numTrainEpochs = 3.0
            var adamBeta2 = 0.95
            var seed: UInt64 = 42
        }
        let arguments = try RunArguments(file: URL(fileURLWithPath: "/tmp/args.json"), encoding: Flags())
        #expect(arguments.members.map(\.key) == ["adam_beta2", "num_train_epochs", "seed"])
        #expect(arguments["adam_beta2"]?.doubleValue == 0.95 && arguments["seed"]?.intValue == 42)
    }

    @Test func theRunFolderIsOutputDirOrAboveTheCheckpoint() throws {
        let run = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: run) }
        let checkpoint = run.appendingPathComponent("checkpoint-4")
        try FileManager.default.createDirectory(at: checkpoint, withIntermediateDirectories: true)
        #expect(try RunArguments.find(near: checkpoint) == nil)
        try Data(#"{"model": "/no/such/model", "output_dir": "/nope"}"#.utf8).write(to: checkpoint.appendingPathComponent("args.json"))
        let found = try #require(try RunArguments.find(near: checkpoint))
        #expect(found.runFolder.path == run.path)
        #expect(found.validationFile == run.appendingPathComponent("val_dataset.jsonl"))
        #expect(throws: RunFileError.missingModel(path: found.file.path, model: "/no/such/model")) { try found.modelFolder() }
        #expect(RunFileError.missingModel(path: "a", model: nil).description == "a names no model (hint: pass --model)")
    }
}
