import Foundation
import Testing
@testable import SwiftTuneHub

/// Local paths, caches made by the hubs' own clients, offline and unreachable hubs, GGUF repositories, options.
@Suite(.timeLimit(.minutes(3))) struct HubResolverTests {
    let commit = String(repeating: "c0", count: 20)

    /// An HF cache entry as huggingface_hub writes it: blobs, a snapshot of relative symlinks, refs/main.
    func makeHFCache(_ folder: HubTestFolder, id: String, files: [String: Data]) throws -> URL {
        let root = folder.hfCache.appendingPathComponent("models--" + id.replacingOccurrences(of: "/", with: "--"))
        let snapshot = root.appendingPathComponent("snapshots/\(commit)")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        for (index, (path, data)) in files.sorted(by: { $0.key < $1.key }).enumerated() {
            try data.write(to: root.appendingPathComponent("blobs/blob\(index)"))
            try FileManager.default.createSymbolicLink(atPath: snapshot.appendingPathComponent(path).path,
                                                       withDestinationPath: "../../blobs/blob\(index)")
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try Data(commit.utf8).write(to: root.appendingPathComponent("refs/main"))
        return snapshot
    }

    @Test func existingPathsAreUsedAsTheyAre() async throws {
        let folder = try HubTestFolder()
        defer { folder.remove() }
        let gguf = folder.root.appendingPathComponent("tiny.gguf")
        try Data("GGUF".utf8).write(to: gguf)
        let options = folder.options()
        #expect(try await HubResolver.resolveModel(folder.root.path, options: options).path == folder.root.path)
        #expect(try await HubResolver.resolveModel(gguf.path, options: options).path == gguf.path)
        #expect(try await HubResolver.resolveDataset(gguf.path, options: options).path == gguf.path)

        let missing = await hubError { _ = try await HubResolver.resolveModel("/no/such/model.gguf", options: options) }
        #expect(missing == .notFound(path: "/no/such/model.gguf"))
        let bad = await hubError { _ = try await HubResolver.resolveModel("just-a-name", options: options) }
        #expect(bad?.description.contains("ORG/NAME") == true)
    }

    @Test func huggingFaceCacheOfHuggingFaceHubIsFoundOffline() async throws {
        let folder = try HubTestFolder()
        defer { folder.remove() }
        let snapshot = try makeHFCache(folder, id: "Org/Model-1.5B", files: [
            "config.json": Data("{}".utf8), "model.safetensors.index.json": Data(#"{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#.utf8),
            "model-00001-of-00002.safetensors": Data([1]),
        ])
        var options = folder.options()
        options.offline = true
        // one shard of two: incomplete, so not used
        let incomplete = await hubError { _ = try await HubResolver.resolveModel("Org/Model-1.5B", options: options) }
        guard case .notAvailable? = incomplete else {
            Issue.record("expected notAvailable, got \(String(describing: incomplete))")
            return
        }
        try Data([2]).write(to: snapshot.appendingPathComponent("model-00002-of-00002.safetensors"))
        #expect(try await HubResolver.resolveModel("Org/Model-1.5B", options: options).path == snapshot.path)
        options.revision = commit  // a commit is looked up in snapshots/ directly
        #expect(try await HubResolver.resolveModel("Org/Model-1.5B", options: options).path == snapshot.path)
        options.revision = "v2"
        #expect(await hubError { _ = try await HubResolver.resolveModel("Org/Model-1.5B", options: options) } != nil)
    }

    @Test func modelScopeCacheLayoutsAreFound() async throws {
        let folder = try HubTestFolder()
        defer { folder.remove() }
        var options = folder.options()
        options.offline = true
        let masked = folder.msCache.appendingPathComponent("models/Qwen/Qwen2___5-0___5B")
        try FileManager.default.createDirectory(at: masked, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: masked.appendingPathComponent("config.json"))
        try Data([0]).write(to: masked.appendingPathComponent("model.safetensors"))
        let unfinished = await hubError { _ = try await HubResolver.resolveModel("Qwen/Qwen2.5-0.5B", options: options) }
        #expect(unfinished != nil)  // no .mv: modelscope had not finished
        try Data("Revision:v0.9,CreatedAt:1700000000".utf8).write(to: masked.appendingPathComponent(".mv"))
        #expect(try await HubResolver.resolveModel("Qwen/Qwen2.5-0.5B", options: options).path == masked.path)
        options.useHF = true  // the other hub's cache is looked in too
        #expect(try await HubResolver.resolveModel("Qwen/Qwen2.5-0.5B", options: options).path == masked.path)

        let legacy = folder.msCache.appendingPathComponent("damo/old-model")  // modelscope < 1.19's folder
        try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)
        try Data([0]).write(to: legacy.appendingPathComponent("old.gguf"))
        #expect(try await HubResolver.resolveModel("damo/old-model", options: options).path == legacy.appendingPathComponent("old.gguf").path)

        options.revision = "v1.0"  // a named revision must match the folder's .mv
        #expect(await hubError { _ = try await HubResolver.resolveModel("Qwen/Qwen2.5-0.5B", options: options) } != nil)
        try Data("Revision:v1.0,CreatedAt:1700000000".utf8).write(to: masked.appendingPathComponent(".mv"))
        #expect(try await HubResolver.resolveModel("Qwen/Qwen2.5-0.5B", options: options).path == masked.path)

        // modelscope ≥ 1.38's layout
        let snapshot = folder.msCache.appendingPathComponent("models/Qwen--Qwen3-0.6B/snapshots/master")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: snapshot.appendingPathComponent("config.json"))
        options.revision = nil
        let partial = await hubError { _ = try await HubResolver.resolveModel("Qwen/Qwen3-0.6B", options: options) }
        #expect(partial != nil)  // no weights yet
        try Data([0]).write(to: snapshot.appendingPathComponent("model.safetensors"))
        #expect(try await HubResolver.resolveModel("Qwen/Qwen3-0.6B", options: options).path == snapshot.path)

        let dataset = folder.msCache.appendingPathComponent("datasets/swift/self-cognition")
        try FileManager.default.createDirectory(at: dataset, withIntermediateDirectories: true)
        try Data("{}\n".utf8).write(to: dataset.appendingPathComponent("train.jsonl"))
        try Data("master".utf8).write(to: dataset.appendingPathComponent(".mv"))
        options.revision = nil
        #expect(try await HubResolver.resolveDataset("swift/self-cognition", options: options).path == dataset.path)
    }

    @Test func offlineErrorNamesTheIdEveryPlaceAndTheWayOut() async throws {
        try await withFakeHub { server, folder in
            let options = HubOptions(environment: [
                "HOME": folder.root.path, "HF_HUB_CACHE": folder.hfCache.path, "MODELSCOPE_CACHE": folder.msCache.path,
                "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": server.endpoint,
            ])
            #expect(options.offline)
            let error = await hubError { _ = try await HubResolver.resolveModel("fake-org/tiny-model", options: options) }
            let text = error?.description ?? ""
            for needle in ["'fake-org/tiny-model'", "offline", "HF_HUB_OFFLINE=1",
                           folder.hfCache.appendingPathComponent("models--fake-org--tiny-model").path,
                           folder.msCache.appendingPathComponent("models/fake-org/tiny-model").path,
                           "swift-tune download --model fake-org/tiny-model", "--model /path/to/folder"] {
                #expect(text.contains(needle), "missing '\(needle)' in: \(text)")
            }
            #expect(server.requests.isEmpty)

            let dataset = await hubError { _ = try await HubResolver.resolveDataset("fake-org/tiny-data", useHF: true, options: options) }
            #expect(dataset?.description.contains("datasets--fake-org--tiny-data") == true)
            #expect(dataset?.description.contains("--dataset /path/to/folder") == true)
        }
    }

    @Test func unreachableHubIsReportedLikeOffline() async throws {
        let folder = try HubTestFolder()
        defer { folder.remove() }
        var options = folder.options()
        options.retryDelay = .seconds(3600)  // a retry would take an hour
        let start = ContinuousClock.now
        let error = await hubError { _ = try await HubResolver.resolveModel("fake-org/tiny-model", options: options) }
        let duration = ContinuousClock.now - start
        guard case .notAvailable(let repo, let lookedIn, let reason)? = error else {
            Issue.record("expected notAvailable, got \(String(describing: error))")
            return
        }
        #expect(repo.hub == .huggingFace && lookedIn.count == 4)
        // A refused connection is not retried: one retry would wait an hour. (The bound is loose because CI runs the whole
        // suite at once on 2 cores, where a refused connect has taken 34 s to come back.)
        #expect(duration < .seconds(600))
        #expect(reason.contains("cannot be reached at http://127.0.0.1:9/api/models/fake-org/tiny-model/revision/main"))
    }

    @Test func ggufRepositoriesResolveToTheirFile() async throws {
        let single = HubFakeRepo(kind: "model", id: "fake-org/tiny-GGUF", commit: String(repeating: "9f", count: 20), files: [
            HubFakeFile(path: "README.md", data: Data("# gguf".utf8), lfs: false),
            HubFakeFile(path: "tiny-Q8_0.gguf", data: HubFakeRepo.bytes(5000, seed: 3), lfs: true),
        ])
        var several = single
        several.id = "fake-org/many-GGUF"
        several.files.append(HubFakeFile(path: "tiny-Q4_K_M.gguf", data: HubFakeRepo.bytes(4000, seed: 4), lfs: true))
        try await withFakeHub(repos: [single, several]) { server, folder in
            var options = folder.options(endpoint: server.endpoint)
            let file = try await HubResolver.resolveModel(single.id, options: options)
            #expect(file.lastPathComponent == "tiny-Q8_0.gguf")
            #expect(try Data(contentsOf: file) == single.files[1].data)

            let error = await hubError { _ = try await HubResolver.resolveModel(several.id, options: options) }
            #expect(error == .ambiguousGGUF(repo: HubRepo(hub: .huggingFace, kind: .model, id: several.id),
                                            files: ["tiny-Q8_0.gguf", "tiny-Q4_K_M.gguf"]))
            options.ggufFile = "tiny-Q4_K_M.gguf"
            let chosen = try await HubResolver.resolveModel(several.id, options: options)
            #expect(chosen.lastPathComponent == "tiny-Q4_K_M.gguf")
            #expect(!FileManager.default.fileExists(atPath: chosen.deletingLastPathComponent().appendingPathComponent("tiny-Q8_0.gguf").path))
        }
    }

    @Test func optionsFollowTheHubsEnvironment() {
        let plain = HubOptions(environment: ["HOME": "/home/u"])
        #expect(plain.hfCache.path == "/home/u/.cache/huggingface/hub")
        #expect(plain.modelScopeCache.path == "/home/u/.cache/modelscope/hub")
        #expect(plain.modelScopeSnapshotCache.path == "/home/u/.cache/modelscope")
        #expect(plain.hfEndpoint == "https://huggingface.co" && plain.modelScopeEndpoint == "https://www.modelscope.cn")
        #expect(!plain.offline && !plain.useHF && plain.hub() == .modelScope)

        let set = HubOptions(environment: [
            "HOME": "/home/u", "XDG_CACHE_HOME": "/xdg", "MODELSCOPE_CACHE": "~/ms", "HF_ENDPOINT": "https://mirror.example/",
            "MODELSCOPE_DOMAIN": "www.modelscope.ai", "TRANSFORMERS_OFFLINE": "1", "USE_HF": "True",
        ])
        #expect(set.useHF && set.hub() == .huggingFace && set.hub(prefer: false) == .modelScope)
        #expect(set.hfCache.path == "/xdg/huggingface/hub" && set.modelScopeCache.path == "/home/u/ms")
        #expect(set.hfEndpoint == "https://mirror.example" && set.modelScopeEndpoint == "https://www.modelscope.ai")
        #expect(set.offline)
        #expect(HubOptions(environment: ["HOME": "/h", "HF_HOME": "/hf"]).hfCache.path == "/hf/hub")
        #expect(HubOptions(environment: ["HOME": "/h", "HF_HOME": "/hf", "HF_HUB_CACHE": "/c"]).hfCache.path == "/c")
    }

    @Test func fileSelectionAndURLs() throws {
        #expect(HubFileSelection.matches("1_Pooling/config.json", "*.json"))
        #expect(HubFileSelection.matches("model-00001-of-00002.safetensors", "model-*.safetensors"))
        #expect(!HubFileSelection.matches("README.md", "*.json"))
        let repo = HubRepo(hub: .huggingFace, kind: .model, id: "o/n", revision: "refs/pr/1")
        let file = HubRemoteFile(path: "sub dir/a+b.json")
        #expect(HubHFAPI(endpoint: "https://h").downloadURL(repo, file: file, commit: nil)
            == "https://h/o/n/resolve/refs%2Fpr%2F1/sub%20dir/a%2Bb.json")
        #expect(HubHFAPI(endpoint: "https://h").listingURL(repo) == "https://h/api/models/o/n/revision/refs%2Fpr%2F1?blobs=true")
        #expect(HubRepo.isValidID("Qwen/Qwen2.5-0.5B-Instruct") && !HubRepo.isValidID("./a") && !HubRepo.isValidID("a/b/c"))
        #expect(HubFiles.isSafeRelativePath("a/b.json") && !HubFiles.isSafeRelativePath("../x") && !HubFiles.isSafeRelativePath("/x"))
        #expect(HubDownloader.rangeStart("bytes 100-199/200") == 100)
    }

    /// Bytes that Python's `pickle.loads` reads as [{'Path': 'config.json', 'Revision': 'abc'}, {'Path': 'é.bin',
    /// 'Revision': 'd'}] (checked with CPython 3.11), as modelscope's `.msc` cache index.
    @Test func modelScopeIndexIsAPythonPickle() {
        let bytes: [UInt8] = [128, 2, 93, 40, 125, 40, 88, 4, 0, 0, 0, 80, 97, 116, 104, 88, 11, 0, 0, 0, 99, 111, 110, 102,
                              105, 103, 46, 106, 115, 111, 110, 88, 8, 0, 0, 0, 82, 101, 118, 105, 115, 105, 111, 110, 88, 3,
                              0, 0, 0, 97, 98, 99, 117, 125, 40, 88, 4, 0, 0, 0, 80, 97, 116, 104, 88, 6, 0, 0, 0, 195, 169,
                              46, 98, 105, 110, 88, 8, 0, 0, 0, 82, 101, 118, 105, 115, 105, 111, 110, 88, 1, 0, 0, 0, 100,
                              117, 101, 46]
        let data = HubModelScopeCache.pickle([["Path": "config.json", "Revision": "abc"], ["Revision": "d", "Path": "é.bin"]])
        #expect(Array(data) == bytes)
        #expect(Array(HubModelScopeCache.pickle([])) == [128, 2, 93, 40, 101, 46])
    }

    @Test func sha256OfFiles() throws {
        let folder = try HubTestFolder()
        defer { folder.remove() }
        let url = folder.root.appendingPathComponent("abc")
        try Data("abc".utf8).write(to: url)
        let (length, digest) = try HubDownloader.sha256(of: url)
        #expect(length == 3 && digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
