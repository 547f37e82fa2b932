import Foundation

/// The ModelScope cache, as the modelscope package (up to 1.37) writes it (`MODELSCOPE_CACHE`, by default
/// `~/.cache/modelscope/hub`):
///
///     models/org/name/<path>                 the files themselves ('.' in the name becomes '___': Qwen2___5-0___5B,
///                                            with a symlink from the dotted name)
///     models/org/name/.mv                    the revision downloaded ("Revision:master,…" or "master")
///     models/org/name/.msc                   a Python pickle of [{"Path": …, "Revision": <commit>}, …]: the files
///                                            modelscope need not download again
///     models/._____temp/org/name/<path>      files while they download
///     datasets/…                             the same for datasets
///     org/name/                              older modelscope versions' model folders (read only)
///
/// modelscope ≥ 1.38 (through modelscope-hub) keeps new downloads in `models/org--name/snapshots/<revision>/`
/// under `MODELSCOPE_CACHE` or `~/.cache/modelscope`, and still reuses a non-empty folder of the layout above;
/// so downloads go to the layout above (which every version reads) and the new one is looked in too.
struct HubModelScopeCache: HubCacheLayout {
    var repo: HubRepo
    var cache: URL
    var snapshotCache: URL
    static let temporaryFolderName = "._____temp"
    static let versionFileName = ".mv"
    static let indexFileName = ".msc"

    init(repo: HubRepo, cache: URL, snapshotCache: URL? = nil) {
        self.repo = repo
        self.cache = cache
        self.snapshotCache = snapshotCache ?? cache
    }

    var kindRoot: URL { cache.appendingPathComponent(repo.kind == .model ? "models" : "datasets", isDirectory: true) }
    var maskedName: String { repo.name.replacingOccurrences(of: ".", with: "___") }
    /// The folder modelscope writes to.
    var folder: URL { kindRoot.appendingPathComponent(repo.owner).appendingPathComponent(maskedName, isDirectory: true) }

    /// Folders that may hold the repository, newest layout first.
    var candidates: [URL] {
        var list = [folder, kindRoot.appendingPathComponent(repo.owner).appendingPathComponent(repo.name, isDirectory: true)]
        if repo.kind == .model {
            list.append(cache.appendingPathComponent(repo.owner).appendingPathComponent(maskedName, isDirectory: true))
            list.append(cache.appendingPathComponent(repo.owner).appendingPathComponent(repo.name, isDirectory: true))
        }
        var seen = Set<String>()
        return list.filter { seen.insert($0.path).inserted }
    }

    /// modelscope ≥ 1.38's folder for the revision (named by revision, not commit; no marker when finished).
    var snapshotFolder: URL {
        snapshotCache.appendingPathComponent(repo.kind == .model ? "models" : "datasets")
            .appendingPathComponent(repo.id.replacingOccurrences(of: "/", with: "--"))
            .appendingPathComponent("snapshots").appendingPathComponent(repo.revision, isDirectory: true)
    }

    var searchedPaths: [String] { (candidates + [snapshotFolder]).map { "\($0.path) (ModelScope cache)" } }

    /// The revision recorded in a folder's `.mv`: "Revision:v1.0,CreatedAt:…" or a bare "master".
    static func recordedRevision(in folder: URL) -> String? {
        guard let text = try? String(contentsOf: folder.appendingPathComponent(versionFileName), encoding: .utf8) else {
            return nil
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("Revision:") else { return trimmed.hubNonEmpty }
        return trimmed.dropFirst("Revision:".count).split(separator: ",").first.map(String.init)
    }

    /// modelscope writes `.mv` once every file is in place, so a folder without one is a download cut short
    /// (older versions' `org/name` folders have none and count as they are). For the default revision any
    /// recorded one will do (modelscope records the tag that `master` resolved to); another must match.
    func cachedSnapshots() -> [URL] {
        let legacy = candidates.filter { candidate in
            guard HubFiles.isDirectory(candidate) else { return false }
            guard let recorded = Self.recordedRevision(in: candidate) else {
                return !candidate.path.hasPrefix(kindRoot.path + "/") && repo.revision == repo.hub.defaultRevision
            }
            return repo.revision == repo.hub.defaultRevision || recorded == repo.revision
        }
        return legacy + (HubFiles.isDirectory(snapshotFolder) ? [snapshotFolder] : [])
    }

    func prepare() throws {
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(Self.versionFileName))
    }

    func snapshotFolder(commit: String?) -> URL { folder }

    func partialURL(for file: HubRemoteFile) -> URL {
        kindRoot.appendingPathComponent(Self.temporaryFolderName).appendingPathComponent(repo.owner)
            .appendingPathComponent(repo.name).appendingPathComponent(file.path)
    }

    func existingFile(for file: HubRemoteFile) -> URL? {
        let url = folder.appendingPathComponent(file.path)
        guard let size = HubFiles.size(url), file.size == nil || file.size == size else { return nil }
        return url
    }

    func storedURL(for file: HubRemoteFile, sha256: String) -> URL { folder.appendingPathComponent(file.path) }

    func place(_ file: HubRemoteFile, stored: URL, commit: String?) throws {}

    func finish(commit: String?, files: [HubRemoteFile]) throws {
        let index = files.map { ["Path": $0.path, "Revision": $0.revision ?? commit ?? repo.revision] }
        do {
            try Self.pickle(index).write(to: folder.appendingPathComponent(Self.indexFileName), options: .atomic)
        } catch {
            throw HubError.fileSystem(path: folder.appendingPathComponent(Self.indexFileName).path, reason: "\(error)")
        }
        let record = repo.kind == .model ? "Revision:\(repo.revision)" : repo.revision
        try HubFiles.writeAtomically(record, to: folder.appendingPathComponent(Self.versionFileName))
        let dotted = kindRoot.appendingPathComponent(repo.owner).appendingPathComponent(repo.name)
        if dotted.path != folder.path, !FileManager.default.fileExists(atPath: dotted.path) {
            try HubFiles.symlink(dotted, to: maskedName)
        }
    }

    /// `entries` as a Python pickle (protocol 2: PROTO, EMPTY_LIST, MARK, per dict EMPTY_DICT MARK
    /// BINUNICODE… SETITEMS, APPENDS, STOP), which `pickle.load` reads as a list of str→str dicts.
    /// https://github.com/python/cpython/blob/main/Lib/pickletools.py documents the opcodes.
    static func pickle(_ entries: [[String: String]]) -> Data {
        var out = Data([0x80, 0x02, UInt8(ascii: "]"), UInt8(ascii: "(")])
        func unicode(_ text: String) {
            let bytes = Array(text.utf8)
            out.append(UInt8(ascii: "X"))
            withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: bytes)
        }
        for entry in entries {
            out.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "(")])
            for key in entry.keys.sorted() {
                unicode(key)
                unicode(entry[key] ?? "")
            }
            out.append(UInt8(ascii: "u"))
        }
        out.append(contentsOf: [UInt8(ascii: "e"), UInt8(ascii: ".")])
        return out
    }
}
