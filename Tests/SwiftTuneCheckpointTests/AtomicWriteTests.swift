import Foundation
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneTensor
import Testing

/// A failed write never leaves a file with the final name, nor a temporary file behind.
@Suite struct AtomicWriteTests {
    let backend = CPUBackend(useBLAS: false, threadCount: 1)

    @Test func failingDownloadLeavesNoFile() throws {
        let directory = try TemporaryDirectory()
        let failing = FailingBackend()
        let url = directory.file("model.safetensors")
        #expect(throws: FailingBackend.DownloadFailed.self) {
            try SafetensorsWriter.write(tensors: [
                ("a", try backend.tensor([1, 2], shape: [2])),
                ("b", try failing.tensor([3, 4], shape: [2])),
            ], to: url)
        }
        #expect(try directory.contents().isEmpty)
    }

    @Test func failingWriteKeepsThePreviousFile() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("model.safetensors")
        try SafetensorsWriter.write(tensors: ["x": try backend.tensor([1, 2], shape: [2])], to: url)
        let before = try Data(contentsOf: url)
        #expect(throws: FailingBackend.DownloadFailed.self) {
            try SafetensorsWriter.write(tensors: ["x": try FailingBackend().tensor([5, 6], shape: [2])], to: url)
        }
        #expect(try Data(contentsOf: url) == before)
        #expect(try directory.contents() == ["model.safetensors"])
    }

    @Test func missingDirectoryThrowsAndCreatesNothing() throws {
        let directory = try TemporaryDirectory()
        let url = directory.url.appendingPathComponent("no-such-dir").appendingPathComponent("model.safetensors")
        let error = checkpointError {
            try SafetensorsWriter.write(tensors: ["x": try backend.tensor([1], shape: [1])], to: url)
        }
        guard case .io(_, "create a temporary file", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: ["no-such-dir"])
        #expect(!FileManager.default.fileExists(atPath: url.path))
        #expect(try directory.contents().isEmpty)
    }

    @Test func duplicateNamesAreRefusedBeforeWriting() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("dup.safetensors")
        let tensor = try backend.tensor([1], shape: [1])
        let error = checkpointError { try SafetensorsWriter.write(tensors: [("w", tensor), ("w", tensor)], to: url) }
        guard case .duplicateKey(_, "w")? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: [url.path, "\"w\""])
        let reserved = checkpointError { try SafetensorsWriter.write(tensors: [("__metadata__", tensor)], to: url) }
        guard case .invalidArgument? = reserved else { Issue.record("got \(String(describing: reserved))"); return }
        #expect(try directory.contents().isEmpty)
    }

    @Test func failedShardedWriteRemovesTheShardsItWrote() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: FailingBackend.DownloadFailed.self) {
            try SafetensorsWriter.writeSharded(tensors: [
                ("a", try backend.tensor([1, 2], shape: [2])),
                ("b", try backend.tensor([3, 4], shape: [2])),
                ("c", try FailingBackend().tensor([5, 6], shape: [2])),
            ], to: directory.url, maxShardBytes: 8)
        }
        #expect(try directory.contents().isEmpty)
        let error = checkpointError {
            try SafetensorsWriter.writeSharded(tensors: [], to: directory.url, maxShardBytes: 0)
        }
        guard case .invalidArgument? = error else { Issue.record("got \(String(describing: error))"); return }
    }
}
