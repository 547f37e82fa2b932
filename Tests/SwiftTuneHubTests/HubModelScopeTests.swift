import Foundation
import Testing
@testable import SwiftTuneHub

/// Downloads from the fake ModelScope (the default hub, as in ms-swift) and datasets from both hubs.
@Suite(.timeLimit(.minutes(3))) struct HubModelScopeTests {
    @Test func modelScopeDownloadWritesItsCacheLayout() async throws {
        let repo = HubFakeRepo.model("fake-org/tiny-model-0.5B")
        try await withFakeHub(repos: [repo]) { server, folder in
            server.requiredToken = "ms-token"
            var options = folder.options(endpoint: server.endpoint, useHF: false)
            options.token = "ms-token"
            let url = try await HubResolver.resolveModel(repo.id, options: options)

            let models = folder.msCache.appendingPathComponent("models/fake-org")
            #expect(url.path == models.appendingPathComponent("tiny-model-0___5B").path)
            for path in ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors", "1_Pooling/config.json"] {
                #expect(try Data(contentsOf: url.appendingPathComponent(path)) == repo.file(path)?.data, "\(path)")
                #expect(symlinkTarget(url.appendingPathComponent(path)) == nil, "\(path) is a plain file")
            }
            #expect(!FileManager.default.fileExists(atPath: url.appendingPathComponent("README.md").path))
            #expect(try String(contentsOf: url.appendingPathComponent(".mv"), encoding: .utf8) == "Revision:master")
            #expect(symlinkTarget(models.appendingPathComponent("tiny-model-0.5B")) == "tiny-model-0___5B")
            let index = try Data(contentsOf: url.appendingPathComponent(".msc"))
            #expect(index == HubModelScopeCache.pickle(["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors",
                                                         "1_Pooling/config.json", "2_Dense/config.json"].map { ["Path": $0, "Revision": repo.commit] }))
            let temp = folder.msCache.appendingPathComponent("models/._____temp")
            #expect(HubFiles.files(under: temp).isEmpty)

            // ModelScope's URL layout, with the token as Bearer and as modelscope's session cookie
            let uris = server.requests.map(\.uri)
            #expect(uris.contains("/api/v1/models/fake-org/tiny-model-0.5B/repo/files?Revision=master&Recursive=True"))
            #expect(uris.contains("/api/v1/models/fake-org/tiny-model-0.5B/repo?Revision=master&FilePath=1_Pooling%2Fconfig.json"))
            #expect(server.requests.allSatisfy {
                $0.headers["authorization"] == "Bearer ms-token" && $0.headers["cookie"] == "m_session_id=ms-token"
            })

            let before = server.requests.count
            #expect(try await HubResolver.resolveModel(repo.id, options: options) == url)
            #expect(server.requests.count == before)
        }
    }

    @Test func modelScopeDownloadResumesAfterADroppedConnection() async throws {
        let repo = HubFakeRepo.model()
        try await withFakeHub(repos: [repo]) { server, folder in
            server.dropOnce = ["model.safetensors"]
            let url = try await HubResolver.resolveModel(repo.id, options: folder.options(endpoint: server.endpoint, useHF: false))
            let weights = try #require(repo.file("model.safetensors"))
            #expect(try Data(contentsOf: url.appendingPathComponent("model.safetensors")) == weights.data)
            expectResumed(server, file: "model.safetensors", size: weights.data.count)
        }
    }

    @Test func modelScopeChecksumMismatchIsReportedThenFixed() async throws {
        let repo = HubFakeRepo.model()
        try await withFakeHub(repos: [repo]) { server, folder in
            server.corrupt = ["tokenizer.json"]
            let options = folder.options(endpoint: server.endpoint, useHF: false)
            let error = await hubError { _ = try await HubResolver.resolveModel(repo.id, options: options) }
            guard case .checksumMismatch(let file, let expected, _)? = error else {
                Issue.record("expected a checksum error, got \(String(describing: error))")
                return
            }
            #expect(file == "tokenizer.json" && expected == repo.file("tokenizer.json")?.sha256)
            #expect(server.fileRequests("tokenizer.json").count == 2)

            server.corrupt = []
            let url = try await HubResolver.resolveModel(repo.id, options: options)
            #expect(try Data(contentsOf: url.appendingPathComponent("tokenizer.json")) == repo.file("tokenizer.json")?.data)
        }
    }

    @Test func huggingFaceDatasetIsResolvedToItsSnapshot() async throws {
        let repo = HubFakeRepo.dataset()
        try await withFakeHub(repos: [repo]) { server, folder in
            let url = try await HubResolver.resolveDataset(repo.id, useHF: true, options: folder.options(endpoint: server.endpoint, useHF: false))
            let root = folder.hfCache.appendingPathComponent("datasets--fake-org--tiny-data")
            #expect(url.path == root.appendingPathComponent("snapshots/\(repo.commit)").path)
            for file in repo.files {
                #expect(try Data(contentsOf: url.appendingPathComponent(file.path)) == file.data, "\(file.path)")
            }
            #expect(server.requests.contains { $0.uri == "/api/datasets/fake-org/tiny-data/revision/main?blobs=true" })
            #expect(server.requests.contains { $0.uri.hasPrefix("/datasets/fake-org/tiny-data/resolve/\(repo.commit)/") })
        }
    }

    @Test func modelScopeDatasetIsResolvedToItsFolder() async throws {
        let repo = HubFakeRepo.dataset()
        try await withFakeHub(repos: [repo]) { server, folder in
            let url = try await HubResolver.resolveDataset(repo.id, options: folder.options(endpoint: server.endpoint, useHF: false))
            #expect(url.path == folder.msCache.appendingPathComponent("datasets/fake-org/tiny-data").path)
            for file in repo.files {
                #expect(try Data(contentsOf: url.appendingPathComponent(file.path)) == file.data, "\(file.path)")
            }
            let uris = server.requests.map(\.uri)
            #expect(uris.contains("/api/v1/datasets/fake-org/tiny-data"))
            #expect(uris.contains { $0.hasPrefix("/api/v1/datasets/4242/repo/tree?Revision=master") })
            #expect(uris.contains("/api/v1/datasets/fake-org/tiny-data/repo?Source=SDK&Revision=master&FilePath=data%2Ftest.jsonl"))
            #expect(try String(contentsOf: url.appendingPathComponent(".mv"), encoding: .utf8) == "master")

            let before = server.requests.count
            #expect(try await HubResolver.resolveDataset(repo.id, useHF: false, options: folder.options(endpoint: server.endpoint)) == url)
            #expect(server.requests.count == before)
        }
    }
}
