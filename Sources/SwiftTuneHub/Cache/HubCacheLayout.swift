import Foundation

/// Where one repository's files live in one hub's cache, laid out as that hub's own Python client lays them out,
/// so that either tool reads what the other downloaded.
protocol HubCacheLayout: Sendable {
    var repo: HubRepo { get }
    /// What a lookup reads, for the error that says where the repository was looked for.
    var searchedPaths: [String] { get }
    /// Folders that may hold the repository at `repo.revision`, best first (each may still be incomplete).
    func cachedSnapshots() -> [URL]
    /// Called before any file is fetched: a folder being downloaded must not look finished.
    func prepare() throws
    /// The folder that holds the files of the listed commit once downloaded.
    func snapshotFolder(commit: String?) -> URL
    /// Where `file`'s bytes are written while they arrive (resumed from its length on a later run).
    func partialURL(for file: HubRemoteFile) -> URL
    /// The finished file already in the cache, if `file` needs no download.
    func existingFile(for file: HubRemoteFile) -> URL?
    /// Where `file`'s checked bytes are moved (in one rename from ``partialURL(for:)``).
    func storedURL(for file: HubRemoteFile, sha256: String) -> URL
    /// Makes a stored file appear at its path in the snapshot of `commit` (HF: a relative symlink to the blob).
    func place(_ file: HubRemoteFile, stored: URL, commit: String?) throws
    /// Records that `files` of the revision are downloaded (HF: `refs/<revision>`; ModelScope: `.msc`, `.mv`).
    func finish(commit: String?, files: [HubRemoteFile]) throws
}

/// Small file-system helpers that throw ``HubError/fileSystem(path:reason:)``.
enum HubFiles {
    static func isDirectory(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }

    /// The size of the file at `url` (following symlinks), nil if there is none.
    static func size(_ url: URL) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path),
              (attributes[.type] as? FileAttributeType) != .typeDirectory else { return nil }
        return (attributes[.size] as? NSNumber)?.int64Value
    }

    static func createDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw HubError.fileSystem(path: url.path, reason: "cannot create the folder: \(error.localizedDescription)")
        }
    }

    /// Writes `text` to `url` through a temporary file and a rename, so readers never see half of it.
    static func writeAtomically(_ text: String, to url: URL) throws {
        try createDirectory(url.deletingLastPathComponent())
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw HubError.fileSystem(path: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Moves `source` onto `destination` in one `rename(2)` (replacing it), creating the destination's folder.
    static func rename(_ source: URL, to destination: URL) throws {
        try createDirectory(destination.deletingLastPathComponent())
        if Foundation.rename(source.path, destination.path) != 0 {
            let reason = String(cString: strerror(errno))
            throw HubError.fileSystem(path: destination.path, reason: "cannot move \(source.path) here: \(reason)")
        }
    }

    /// Replaces whatever is at `link` with a symlink to `target` (a relative path).
    static func symlink(_ link: URL, to target: String) throws {
        try createDirectory(link.deletingLastPathComponent())
        try? FileManager.default.removeItem(at: link)
        do {
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target)
        } catch {
            throw HubError.fileSystem(path: link.path, reason: "cannot create a symlink to \(target): \(error.localizedDescription)")
        }
    }

    /// Relative paths of the regular files under `folder` (symlinks followed), hidden names left out.
    static func files(under folder: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var result: [String] = []
        while let path = enumerator.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            if name.hasPrefix(".") {
                if isDirectory(folder.appendingPathComponent(path)) { enumerator.skipDescendants() }
                continue
            }
            if size(folder.appendingPathComponent(path)) != nil { result.append(path) }
        }
        return result.sorted()
    }

    /// Whether a repository path is safe to join to a cache folder (relative, no `..`, no empty parts).
    static func isSafeRelativePath(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.contains("\\") else { return false }
        return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }
}
