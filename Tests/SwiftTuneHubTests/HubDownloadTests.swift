import Foundation
import Testing
@testable import SwiftTuneHub

/// Downloads from the fake HF hub: cache layout, cache hits, resume, checksums, tokens.
@Suite(.timeLimit(.minutes(3))) struct HubDownloadTests {
    let repo = HubFakeRepo.model()
    let selected = ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors", "1_Pooling/config.json",
                    "2_Dense/config.json"]

    @Test func freshDownloadWritesHuggingFaceCacheLayout() async throws {
        try await withFakeHub { server, folder in
            let log = HubProgressLog()
            var options = folder.options(endpoint: server.endpoint)
            options.progress = { log.record($0) }
            let url = try await HubResolver.resolveModel(repo.id, options: options)

            let root = folder.hfCache.appendingPathComponent("models--fake-org--tiny-model")
            #expect(url.path == root.appendingPathComponent("snapshots/\(repo.commit)").path)
            #expect(try String(contentsOf: root.appendingPathComponent("refs/main"), encoding: .utf8) == repo.commit)
            for path in selected {
                let file = try #require(repo.file(path))
                let etag = file.lfs ? file.sha256 : file.gitBlobID
                let depth = String(repeating: "../", count: 2 + path.split(separator: "/").count - 1)
                #expect(symlinkTarget(url.appendingPathComponent(path)) == "\(depth)blobs/\(etag)", "\(path)")
                #expect(try Data(contentsOf: url.appendingPathComponent(path)) == file.data, "\(path)")
                #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("blobs/\(etag)").path))
            }
            for skipped in ["README.md", "pytorch_model.bin"] {
                #expect(!FileManager.default.fileExists(atPath: url.appendingPathComponent(skipped).path))
            }
            let blobs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("blobs").path)
            #expect(blobs.count == selected.count - 1 && !blobs.contains { $0.hasSuffix(".incomplete") })  // 2 files, 1 blob

            // resolve redirected every file to the CDN port, which served the bytes
            let cdnFiles = Set(server.requests.filter { $0.port == server.cdnPort }.compactMap { HubFakeServer.filePath(of: $0.uri) })
            #expect(cdnFiles == Set(selected).subtracting(["2_Dense/config.json"]))  // its blob was there

            let total = selected.compactMap { repo.file($0)?.data.count }.reduce(0, +)
            let last = try #require(log.all.last { $0.filesDone == selected.count })
            #expect(last.bytes == Int64(total) && last.total == Int64(total) && last.fileCount == selected.count)
            #expect(log.all.contains { $0.file == "model.safetensors" && $0.fileBytes > 0 && $0.fileBytes < $0.fileTotal })
        }
    }

    @Test func secondResolveIsServedFromTheCacheWithoutRequests() async throws {
        try await withFakeHub { server, folder in
            let options = folder.options(endpoint: server.endpoint)
            let first = try await HubResolver.resolveModel(repo.id, options: options)
            let before = server.requests.count
            let second = try await HubResolver.resolveModel(repo.id, options: options)
            #expect(second == first)
            #expect(server.requests.count == before)
            var offline = options
            offline.offline = true
            #expect(try await HubResolver.resolveModel(repo.id, options: offline) == first)
            // the ModelScope default finds the HF cache too, still without a request
            var modelScope = options
            modelScope.useHF = false
            #expect(try await HubResolver.resolveModel(repo.id, options: modelScope) == first)
            #expect(server.requests.count == before)
        }
    }

    @Test func droppedConnectionResumesWithRangeWithoutResendingBytes() async throws {
        try await withFakeHub { server, folder in
            server.dropOnce = ["model.safetensors"]
            let url = try await HubResolver.resolveModel(repo.id, options: folder.options(endpoint: server.endpoint))
            let file = try #require(repo.file("model.safetensors"))
            #expect(try Data(contentsOf: url.appendingPathComponent("model.safetensors")) == file.data)
            let resent = expectResumed(server, file: "model.safetensors", size: file.data.count, port: server.cdnPort)
            print("resumed model.safetensors: \(resent) of \(file.data.count / 2) bytes sent before the drop were sent again")
        }
    }

    @Test func partialFileOfAnEarlierRunIsContinued() async throws {
        try await withFakeHub { server, folder in
            let file = try #require(repo.file("model.safetensors"))
            let blobs = folder.hfCache.appendingPathComponent("models--fake-org--tiny-model/blobs")
            try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
            try file.data.prefix(100_000).write(to: blobs.appendingPathComponent("\(file.sha256).incomplete"))

            let url = try await HubResolver.resolveModel(repo.id, options: folder.options(endpoint: server.endpoint))
            #expect(try Data(contentsOf: url.appendingPathComponent("model.safetensors")) == file.data)
            #expect(server.bodyBytesSent("model.safetensors") == file.data.count - 100_000)
            #expect(server.fileRequests("model.safetensors").last?.headers["range"] == "bytes=100000-")
        }
    }

    @Test func wrongChecksumFailsOnceRetriedThenSucceedsWhenFixed() async throws {
        try await withFakeHub { server, folder in
            let file = try #require(repo.file("model.safetensors"))
            var corrupted = file.data
            corrupted[corrupted.count - 1] ^= 0xFF
            let badHash = HubFakeFile(path: file.path, data: corrupted, lfs: true).sha256
            server.corrupt = ["model.safetensors"]
            let options = folder.options(endpoint: server.endpoint)

            let error = await hubError { _ = try await HubResolver.resolveModel(repo.id, options: options) }
            #expect(error == .checksumMismatch(file: "model.safetensors", expected: file.sha256, got: badHash))
            #expect(error?.description.contains("model.safetensors") == true)
            #expect(error?.description.contains(file.sha256) == true && error?.description.contains(badHash) == true)
            #expect(server.fileRequests("model.safetensors").filter { $0.port == server.cdnPort }.count == 2)  // one retry
            let blobs = folder.hfCache.appendingPathComponent("models--fake-org--tiny-model/blobs")
            #expect(!FileManager.default.fileExists(atPath: blobs.appendingPathComponent("\(file.sha256).incomplete").path))
            #expect(!FileManager.default.fileExists(atPath: blobs.appendingPathComponent(file.sha256).path))

            server.corrupt = []
            let url = try await HubResolver.resolveModel(repo.id, options: options)
            #expect(try Data(contentsOf: url.appendingPathComponent("model.safetensors")) == file.data)
        }
    }

    @Test func aSmallDiskIsRefusedBeforeAnyDownload() async throws {
        try await withFakeHub { server, folder in
            var options = folder.options(endpoint: server.endpoint)
            options.availableBytes = { _ in 100_000 }
            let error = await hubError { _ = try await HubResolver.resolveModel(repo.id, options: options) }
            let needed = selected.filter { $0 != "2_Dense/config.json" }.compactMap { repo.file($0)?.data.count }.reduce(0, +)
            guard case let .insufficientDiskSpace(path, neededBytes, available)? = error else {
                Issue.record("expected insufficientDiskSpace, got \(String(describing: error))")
                return
            }
            #expect(neededBytes == Int64(needed) && available == 100_000 && path.contains("models--fake-org--tiny-model"))
            #expect(error?.description.contains("nothing was downloaded") == true && error?.description.contains("HF_HOME") == true)
            #expect(server.requests.allSatisfy { HubFakeServer.filePath(of: $0.uri) == nil }, "only the listing was fetched")
        }
    }

    @Test func aDiskThatFillsMidFileKeepsThePartialFileForResume() async throws {
        try await withFakeHub { server, folder in
            let file = try #require(repo.file("model.safetensors"))
            let written = HubByteCounter()
            var options = folder.options(endpoint: server.endpoint)
            options.maxParallelFiles = 1
            options.writePiece = { handle, piece in
                guard written.add(piece.count, limit: 120_000) else { throw POSIXError(.ENOSPC) }
                try handle.write(contentsOf: piece)
            }
            let error = await hubError { _ = try await HubResolver.resolveModel(repo.id, options: options) }
            guard case let .fileSystem(path, reason)? = error else {
                Issue.record("expected fileSystem, got \(String(describing: error))")
                return
            }
            #expect(path.hasSuffix("\(file.sha256).incomplete") && reason.contains("write failed"), "\(path): \(reason)")
            #expect(error?.description.contains("kept for resuming") == true)
            let root = folder.hfCache.appendingPathComponent("models--fake-org--tiny-model")
            let partial = root.appendingPathComponent("blobs/\(file.sha256).incomplete")
            let kept = try #require(HubFiles.size(partial), "the partial file was not kept")
            #expect(kept > 0 && kept < Int64(file.data.count))
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("blobs/\(file.sha256)").path))
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("refs/main").path), "no revision recorded")

            // Space again: the next run asks for the rest only.
            let url = try await HubResolver.resolveModel(repo.id, options: folder.options(endpoint: server.endpoint))
            #expect(try Data(contentsOf: url.appendingPathComponent("model.safetensors")) == file.data)
            #expect(server.fileRequests("model.safetensors").last?.headers["range"] == "bytes=\(kept)-")
        }
    }

    @Test func tokenIsSentToTheHubButNotToTheCDN() async throws {
        try await withFakeHub { server, folder in
            server.requiredToken = "s3cret"
            var options = folder.options(endpoint: server.endpoint)
            let refused = await hubError { _ = try await HubResolver.resolveModel(repo.id, options: options) }
            guard case .unauthorized(_, _, 401, false)? = refused else {
                Issue.record("expected 401 without a token, got \(String(describing: refused))")
                return
            }
            #expect(refused?.description.contains("--hub_token") == true)

            options.token = "s3cret"
            _ = try await HubResolver.resolveModel(repo.id, options: options)
            let hub = server.requests.filter { $0.port == server.port }.dropFirst()  // the first one had no token
            #expect(!hub.isEmpty && hub.allSatisfy { $0.headers["authorization"] == "Bearer s3cret" })
            let cdn = server.requests.filter { $0.port == server.cdnPort }
            #expect(!cdn.isEmpty && cdn.allSatisfy { $0.headers["authorization"] == nil })
        }
    }

    @Test func environmentTokenIsUsedForItsHub() {
        let options = HubOptions(environment: ["HOME": "/nonexistent", "HF_TOKEN": "hf_x", "MODELSCOPE_API_TOKEN": "ms_y"])
        #expect(options.token(for: .huggingFace) == "hf_x" && options.token(for: .modelScope) == "ms_y")
        var explicit = options
        explicit.token = "cli"
        #expect(explicit.token(for: .huggingFace) == "cli" && explicit.token(for: .modelScope) == "cli")
    }

    @Test func missingRepositoryNamesThe404() async throws {
        try await withFakeHub { server, folder in
            let error = await hubError {
                _ = try await HubResolver.resolveModel("fake-org/no-such-model", options: folder.options(endpoint: server.endpoint))
            }
            guard case .notFoundOnHub(let repo, let url)? = error else {
                Issue.record("expected notFoundOnHub, got \(String(describing: error))")
                return
            }
            #expect(repo.id == "fake-org/no-such-model" && url.contains("/api/models/fake-org/no-such-model/revision/main"))
            #expect(error?.description.contains("404") == true)
        }
    }
}

/// Bytes written so far, shared by concurrent writes.
final class HubByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    /// Adds `count` unless the total would pass `limit` (then returns false and adds nothing).
    func add(_ count: Int, limit: Int) -> Bool {
        lock.withLock {
            guard total + count <= limit else { return false }
            total += count
            return true
        }
    }
}
