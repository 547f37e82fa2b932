import Foundation

/// ModelScope's API, as the `modelscope` package calls it (answers are `{"Code": 200, "Data": …, "Message": …}`):
/// - model listing: `GET {endpoint}/api/v1/models/{id}/repo/files?Revision={rev}&Recursive=True` → `Data.Files`
///   (`Path`, `Type` blob/tree, `Size`, `Sha256`, `Revision`);
/// - model bytes: `GET {endpoint}/api/v1/models/{id}/repo?Revision={rev}&FilePath={path}`;
/// - dataset listing: `GET {endpoint}/api/v1/datasets/{id}` → `Data.Id`, then
///   `GET {endpoint}/api/v1/datasets/{Data.Id}/repo/tree?Revision=…&Root=/&Recursive=True&PageNumber=N&PageSize=100`;
/// - dataset bytes: `GET {endpoint}/api/v1/datasets/{id}/repo?Source=SDK&Revision={rev}&FilePath={path}`.
/// The `modelscope` client sends its token as the cookie `m_session_id`; this sends it that way and as a Bearer header.
struct HubModelScopeAPI: HubAPI {
    var endpoint: String
    static let pageSize = 100

    func downloadURL(_ repo: HubRepo, file: HubRemoteFile, commit: String?) -> String {
        let revision = HubURL.component(repo.revision)
        switch repo.kind {
        case .model:
            return "\(endpoint)/api/v1/models/\(repo.id)/repo?Revision=\(revision)&FilePath=\(HubURL.component(file.path))"
        case .dataset:
            return "\(endpoint)/api/v1/datasets/\(repo.id)/repo?Source=SDK&Revision=\(revision)&FilePath=\(HubURL.component(file.path))"
        }
    }

    func authHeaders(token: String?) -> [(String, String)] {
        guard let token, !token.isEmpty else { return [] }
        return [("Authorization", "Bearer \(token)"), ("Cookie", "m_session_id=\(token)")]
    }

    func listFiles(_ repo: HubRepo, http: HubHTTP, auth: [(String, String)]) async throws -> HubListing {
        var files: [File] = []
        switch repo.kind {
        case .model:
            let url = "\(endpoint)/api/v1/models/\(repo.id)/repo/files?Revision=\(HubURL.component(repo.revision))&Recursive=True"
            files = try await fetch(FilesData.self, url: url, repo: repo, http: http, auth: auth).Files ?? []
        case .dataset:
            let infoURL = "\(endpoint)/api/v1/datasets/\(repo.id)"
            let info = try await fetch(DatasetInfo.self, url: infoURL, repo: repo, http: http, auth: auth)
            guard let id = info.Id?.value else { throw HubError.invalidListing(url: infoURL, reason: "no 'Data.Id'") }
            for page in 1... {
                let url = "\(endpoint)/api/v1/datasets/\(HubURL.component(id))/repo/tree?Revision=\(HubURL.component(repo.revision))"
                    + "&Root=%2F&Recursive=True&PageNumber=\(page)&PageSize=\(Self.pageSize)"
                let batch = try await fetch(FilesData.self, url: url, repo: repo, http: http, auth: auth).Files ?? []
                files += batch
                if batch.count < Self.pageSize || page >= 10_000 { break }
            }
        }
        let blobs = files.filter { ($0.Type ?? "blob") != "tree" && $0.Name != ".gitignore" && $0.Name != ".gitattributes" }
        let commits = Set(blobs.compactMap(\.Revision))
        return HubListing(
            commit: commits.count == 1 ? commits.first : nil,
            files: blobs.map {
                HubRemoteFile(path: $0.Path, size: $0.Size, sha256: $0.Sha256?.lowercased().hubNonEmpty, revision: $0.Revision)
            })
    }

    private func fetch<T: Decodable & Sendable>(_ type: T.Type, url: String, repo: HubRepo, http: HubHTTP,
                                                auth: [(String, String)]) async throws -> T {
        let envelope = try await http.withRetries(url: url, attempts: min(2, http.options.maxAttempts), retryConnectFailures: false) { _ in
            try await http.getJSON(Envelope<T>.self, url: url, repo: repo, auth: auth)
        }
        if let code = envelope.Code?.value, code != "200" {
            throw HubError.invalidListing(url: url, reason: "Code \(code): \(envelope.Message ?? "no message")")
        }
        guard let data = envelope.Data else { throw HubError.invalidListing(url: url, reason: "no 'Data'") }
        return data
    }

    private struct Envelope<T: Decodable & Sendable>: Decodable, Sendable {
        var Code: HubLooseString?
        var Message: String?
        var Data: T?
    }

    private struct FilesData: Decodable, Sendable {
        var Files: [File]?
    }

    private struct DatasetInfo: Decodable, Sendable {
        var Id: HubLooseString?
    }

    private struct File: Decodable, Sendable {
        var Name: String?
        var Path: String
        var `Type`: String?
        var Size: Int64?
        var Sha256: String?
        var Revision: String?
    }
}
