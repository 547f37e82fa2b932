import Foundation

/// The Hugging Face hub's API, as `huggingface_hub` calls it:
/// - listing: `GET {endpoint}/api/{models|datasets}/{id}/revision/{revision}?blobs=true` → `sha` (the commit) and
///   `siblings` (`rfilename`, `size`, `blobId`, `lfs.sha256`, `lfs.size`);
/// - bytes: `GET {endpoint}/[datasets/]{id}/resolve/{commit}/{path}`, which may answer 302 to a CDN on another host.
struct HubHFAPI: HubAPI {
    var endpoint: String

    func listingURL(_ repo: HubRepo) -> String {
        "\(endpoint)/api/\(repo.kind == .model ? "models" : "datasets")/\(repo.id)/revision/\(HubURL.component(repo.revision))?blobs=true"
    }

    func downloadURL(_ repo: HubRepo, file: HubRemoteFile, commit: String?) -> String {
        let prefix = repo.kind == .dataset ? "datasets/" : ""
        return "\(endpoint)/\(prefix)\(repo.id)/resolve/\(HubURL.component(commit ?? repo.revision))/\(HubURL.path(file.path))"
    }

    func listFiles(_ repo: HubRepo, http: HubHTTP, auth: [(String, String)]) async throws -> HubListing {
        let url = listingURL(repo)
        let info = try await http.withRetries(url: url, attempts: min(2, http.options.maxAttempts), retryConnectFailures: false) { _ in
            try await http.getJSON(RepoInfo.self, url: url, repo: repo, auth: auth)
        }
        guard let siblings = info.siblings else {
            throw HubError.invalidListing(url: url, reason: "no 'siblings' (the repository's files)")
        }
        let files = siblings.map {
            HubRemoteFile(path: $0.rfilename, size: $0.lfs?.size ?? $0.size, sha256: $0.lfs?.sha256?.lowercased(),
                          blobID: $0.blobId)
        }
        return HubListing(commit: info.sha, files: files)
    }

    private struct RepoInfo: Decodable {
        var sha: String?
        var siblings: [Sibling]?
    }

    private struct Sibling: Decodable {
        var rfilename: String
        var size: Int64?
        var blobId: String?
        var lfs: LFS?
    }

    private struct LFS: Decodable {
        var sha256: String?
        var size: Int64?
    }
}
