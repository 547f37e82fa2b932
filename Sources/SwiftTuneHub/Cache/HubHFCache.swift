import Foundation

/// The HF cache, as huggingface_hub writes it (`HF_HUB_CACHE`, by default `~/.cache/huggingface/hub`):
///
///     models--org--name/                    (datasets--org--name/ for datasets)
///       blobs/<etag>                        file contents, named by LFS sha256 or git blob id; <etag>.incomplete while downloading
///       refs/<revision>                     the commit a branch or tag pointed to (refs/main holds 40 hex digits)
///       snapshots/<commit>/<path>           relative symlinks to ../../blobs/<etag>
struct HubHFCache: HubCacheLayout {
    var repo: HubRepo
    var root: URL

    init(repo: HubRepo, cache: URL) {
        self.repo = repo
        root = cache.appendingPathComponent("\(repo.kind)s--" + repo.id.replacingOccurrences(of: "/", with: "--"),
                                            isDirectory: true)
    }

    var searchedPaths: [String] {
        ["\(root.path)/snapshots/<commit of refs/\(repo.revision)> (HF cache)"]
    }

    static func isCommitHash(_ text: String) -> Bool {
        text.count == 40 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// The commit that `repo.revision` names: itself if it is one, else the content of `refs/<revision>`.
    func cachedCommit() -> String? {
        if Self.isCommitHash(repo.revision) { return repo.revision }
        let ref = root.appendingPathComponent("refs").appendingPathComponent(repo.revision)
        guard let text = try? String(contentsOf: ref, encoding: .utf8) else { return nil }
        let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.isEmpty ? nil : commit
    }

    func cachedSnapshots() -> [URL] {
        guard let commit = cachedCommit() else { return [] }
        let folder = snapshotFolder(commit: commit)
        return HubFiles.isDirectory(folder) ? [folder] : []
    }

    /// Nothing to do: `refs/<revision>` is written by ``finish(commit:)``, and a lookup goes through it.
    func prepare() throws {}

    func snapshotFolder(commit: String?) -> URL {
        root.appendingPathComponent("snapshots", isDirectory: true)
            .appendingPathComponent(commit ?? repo.revision, isDirectory: true)
    }

    /// huggingface_hub's etag: the LFS sha256, else the git blob id.
    func etag(_ file: HubRemoteFile) -> String? { file.sha256 ?? file.blobID }

    func partialURL(for file: HubRemoteFile) -> URL {
        let name = etag(file) ?? "unlisted-" + HubURL.component(file.path)
        return root.appendingPathComponent("blobs").appendingPathComponent(name + ".incomplete")
    }

    func existingFile(for file: HubRemoteFile) -> URL? {
        guard let etag = etag(file) else { return nil }
        let blob = root.appendingPathComponent("blobs").appendingPathComponent(etag)
        guard let size = HubFiles.size(blob), file.size == nil || file.size == size else { return nil }
        return blob
    }

    func storedURL(for file: HubRemoteFile, sha256: String) -> URL {
        root.appendingPathComponent("blobs").appendingPathComponent(etag(file) ?? sha256)
    }

    func place(_ file: HubRemoteFile, stored: URL, commit: String?) throws {
        let depth = file.path.split(separator: "/").count - 1
        let target = String(repeating: "../", count: 2 + depth) + "blobs/" + stored.lastPathComponent
        try HubFiles.symlink(snapshotFolder(commit: commit).appendingPathComponent(file.path), to: target)
    }

    func finish(commit: String?, files: [HubRemoteFile]) throws {
        guard let commit, commit != repo.revision else { return }
        try HubFiles.writeAtomically(commit, to: root.appendingPathComponent("refs").appendingPathComponent(repo.revision))
    }
}
