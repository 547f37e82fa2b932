import Foundation
import Testing
@testable import SwiftTuneRunFiles
import SwiftTuneJSON

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct RunFilesTests {
    @Test func runFoldersAreVersionedLikeMsSwift() throws {
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let date = Date(timeIntervalSince1970: 1_764_400_000)
        let first = try RunFolder.create(outputDirectory: output, date: date)
        #expect(first.lastPathComponent == "v0-\(RunFolder.timestamp(date))")
        try FileManager.default.createDirectory(at: output.appendingPathComponent("v7-20250101-000000"),
                                                withIntermediateDirectories: true)
        let next = try RunFolder.create(outputDirectory: output, date: date)
        #expect(next.lastPathComponent.hasPrefix("v8-"))
        #expect(try RunFolder.create(outputDirectory: output, addVersion: false) == output)
        #expect(RunFolder.version(of: "v12-20250101-000000") == 12)
        #expect(RunFolder.version(of: "checkpoint-5") == nil)
    }

    @Test func unwritableOutputIsAClearError() throws {
        let file = try temporaryFolder().appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        #expect(throws: RunFileError.self) { try RunFolder.create(outputDirectory: file.appendingPathComponent("sub")) }
    }

    @Test func logRecordsKeepMsSwiftKeyOrderAndFormats() throws {
        var record = LogRecord()
        record.set("loss", 1.606962921234)
        record.set("token_acc", 0.5)
        record.set("global_step/max_steps", "1/20")
        record.set("memory(GiB)", 2.44)
        record.set("loss", 1.5)
        #expect(record.json == #"{"loss": 1.5, "token_acc": 0.5, "global_step/max_steps": "1/20", "memory(GiB)": 2.44}"#)
        var tricky = LogRecord()
        tricky.set("note", "a \"quoted\"\nline")
        #expect(tricky.json == #"{"note": "a \"quoted\"\nline"}"#)
        #expect(LogRecord.duration(3) == "3s")
        #expect(LogRecord.duration(18 * 60 + 42) == "18m 42s")
        #expect(LogRecord.duration(9 * 3600 + 30 * 60 + 16) == "9h 30m 16s")
        #expect(LogRecord.duration(3600) == "1h 0m 0s")
    }

    @Test func trainingLogAppendsFlushedLines() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var record = LogRecord()
        record.set("loss", 2.0)
        do {
            let log = try TrainingLog(folder: folder)
            try log.append(record)
        }
        let log = try TrainingLog(folder: folder)
        try log.append(record)
        let text = try String(contentsOf: folder.appendingPathComponent("logging.jsonl"), encoding: .utf8)
        #expect(text == "{\"loss\": 2.0}\n{\"loss\": 2.0}\n")
    }

    @Test func checkpointsAreAtomicAndRotated() throws {
        let run = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: run) }
        let store = CheckpointStore(runFolder: run)
        struct Interrupted: Error {}
        #expect(throws: RunFileError.self) {
            try store.save(step: 5) { folder in
                try Data("half".utf8).write(to: folder.appendingPathComponent("adapter_model.safetensors"))
                throw Interrupted()
            }
        }
        #expect(store.checkpoints().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: run.path).isEmpty)
        for step in [10, 20, 30, 40] {
            try store.save(step: step) { try Data("\(step)".utf8).write(to: $0.appendingPathComponent("f")) }
        }
        try store.save(step: 40) { try Data("again".utf8).write(to: $0.appendingPathComponent("f")) }
        #expect(try String(contentsOf: store.folder(step: 40).appendingPathComponent("f"), encoding: .utf8) == "again")
        try store.rotate(limit: 2, keep: store.folder(step: 10))
        #expect(store.checkpoints().map(\.step) == [10, 40])
    }
}
