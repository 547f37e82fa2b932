import Foundation
import Testing

/// Issue 18's case: one JSONL row whose user turn is a 10 MB string, on a model whose context is 128 tokens. It used
/// to train on all of it and grow without bound; now it is deleted (ms-swift's default) and the run refuses clearly,
/// or, with `--truncation_strategy left`, trains on its last 128 tokens.
@Suite struct LongRowTests {
    func writeBigRow(to folder: URL) throws -> URL {
        let url = folder.appendingPathComponent("big.jsonl")
        var line = Data(#"{"messages": [{"role": "user", "content": ""#.utf8)
        line.append(Data(repeating: UInt8(ascii: "a"), count: 10_000_000))
        line.append(Data(#""}, {"role": "assistant", "content": "ok"}]}"#.utf8 + [0x0A]))
        try line.write(to: url)
        return url
    }

    @Test func aRowLongerThanTheContextIsDeletedAndTheRunRefusesPromptly() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let big = try writeBigRow(to: folder)
        let start = Date()
        let result = try CLI.run(["sft", "--model", CLI.tinyModel, "--dataset", big.path, "--max_steps", "1",
                                  "--device", "cpu", "--output_dir", folder.appendingPathComponent("out").path])
        #expect(Date().timeIntervalSince(start) < 300, "tokenizing and dropping one 10 MB row should take seconds")
        #expect(result.status != 0)
        #expect(result.output.contains("max_length: 128"), "\(result.output)")
        #expect(result.error.contains("all 1 rows were dropped: 1 longer than max_length 128 (truncation_strategy delete)"),
                "\(result.error)")

        let left = try CLI.run(["sft", "--model", CLI.tinyModel, "--dataset", big.path, "--max_steps", "1",
                                "--truncation_strategy", "left", "--device", "cpu",
                                "--output_dir", folder.appendingPathComponent("left").path])
        #expect(left.status == 0, "\(left.error)")
        #expect(left.output.contains("train: 1, validation: 0, skipped: 0, truncated: 1 to max_length 128 (left)"), "\(left.output)")
        #expect(left.output.contains("activation memory of the largest batch") && left.output.contains("for 128 tokens"))
    }
}
