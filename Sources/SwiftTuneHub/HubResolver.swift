import Foundation

/// Turns `--model X` / `--dataset X` into a local path, as ms-swift does: an existing path as is; a hub id
/// `ORG/NAME` from the HF or ModelScope cache; otherwise downloaded (from ModelScope by default, from the HF hub
/// with `useHF`) into that hub's cache, where the hub's own Python client finds it too.
public enum HubResolver {
    /// A folder or `.gguf` file ready to load for `spec`: a local path (returned as is when it exists), or a
    /// model id whose cached or downloaded snapshot is returned: the folder (config.json, tokenizer,
    /// safetensors), or its GGUF file when the repository has only GGUF weights or `options.ggufFile` is set.
    public static func resolveModel(_ spec: String, options: HubOptions) async throws -> URL {
        let text = spec.trimmingCharacters(in: .whitespaces)
        if let local = localPath(text) { return local }
        try checkID(text, what: "model")
        return try await resolve(id: text, kind: .model, useHF: nil, options: options)
    }

    /// The local folder of a dataset repository: `id` is `ORG/NAME` (the hub part of ``DatasetSpec`` in
    /// SwiftTuneData: `hf::` gives `useHF` true, `ms::` false, neither nil, which follows `options.useHF`).
    /// Subsets are files or folders inside it, picked by the data layer.
    public static func resolveDataset(_ id: String, useHF: Bool? = nil, options: HubOptions) async throws -> URL {
        let text = id.trimmingCharacters(in: .whitespaces)
        if let local = localPath(text) { return local }
        try checkID(text, what: "dataset")
        return try await resolve(id: text, kind: .dataset, useHF: useHF, options: options)
    }

    /// The caches that may hold `id`, the chosen hub's first: where ``resolveModel(_:options:)`` looks.
    public static func cacheLocations(id: String, kind: HubRepoKind, useHF: Bool? = nil, options: HubOptions) -> [String] {
        layouts(id: id, kind: kind, useHF: useHF, options: options).flatMap(\.searchedPaths)
    }

    // MARK: - Steps

    static func localPath(_ text: String) -> URL? {
        var path = text
        if path == "~" || path.hasPrefix("~/") {
            path = FileManager.default.homeDirectoryForCurrentUser.path + path.dropFirst()
        }
        guard !path.isEmpty, FileManager.default.fileExists(atPath: path) else { return nil }
        return URL(fileURLWithPath: path).standardizedFileURL
    }

    static func checkID(_ text: String, what: String) throws {
        guard !HubRepo.isValidID(text) else { return }
        let pathLike = text.hasPrefix("/") || text.hasPrefix(".") || text.hasPrefix("~") || text.hasSuffix(".gguf")
            || text.split(separator: "/").count > 2
        if pathLike, what == "model" { throw HubError.notFound(path: text) }
        throw HubError.invalidSpec(text, reason: pathLike
            ? "no such file or folder"
            : "neither an existing path nor a hub \(what) id of the form ORG/NAME")
    }

    static func layouts(id: String, kind: HubRepoKind, useHF: Bool?, options: HubOptions) -> [any HubCacheLayout] {
        let primary = options.hub(prefer: useHF)
        return [primary, primary == .huggingFace ? .modelScope : .huggingFace].map { hub in
            let repo = HubRepo(hub: hub, kind: kind, id: id, revision: options.revision)
            return hub == .huggingFace ? HubHFCache(repo: repo, cache: options.hfCache)
                : HubModelScopeCache(repo: repo, cache: options.modelScopeCache, snapshotCache: options.modelScopeSnapshotCache)
        }
    }

    /// Both caches (the chosen hub's first), then a download from the chosen hub.
    static func resolve(id: String, kind: HubRepoKind, useHF: Bool?, options: HubOptions) async throws -> URL {
        let candidates = layouts(id: id, kind: kind, useHF: useHF, options: options)
        for layout in candidates {
            for snapshot in layout.cachedSnapshots() {
                if let found = try usable(snapshot, repo: layout.repo, options: options) { return found }
            }
        }
        let layout = candidates[0]
        let lookedIn = candidates.flatMap(\.searchedPaths)
        if options.offline {
            throw HubError.notAvailable(repo: layout.repo, lookedIn: lookedIn,
                                        reason: "offline mode is on (HF_HUB_OFFLINE=1 or --offline)")
        }
        return try await download(layout, options: options, lookedIn: lookedIn)
    }

    /// What to return from a snapshot folder, nil when it lacks files.
    static func usable(_ snapshot: URL, repo: HubRepo, options: HubOptions) throws -> URL? {
        guard repo.kind == .model else { return HubFileSelection.isLoadable(dataset: snapshot) ? snapshot : nil }
        switch HubFileSelection.loadable(model: snapshot, ggufFile: options.ggufFile) {
        case .folder(let url), .file(let url): return url
        case .incomplete: return nil
        case .ambiguous(let files): throw HubError.ambiguousGGUF(repo: repo, files: files)
        }
    }

    /// Lists the repository, fetches the selected files into `layout`'s cache and returns what to load.
    static func download(_ layout: any HubCacheLayout, options: HubOptions, lookedIn: [String]) async throws -> URL {
        let repo = layout.repo
        let endpoint = options.endpoint(for: repo.hub)
        let api: any HubAPI = repo.hub == .huggingFace ? HubHFAPI(endpoint: endpoint) : HubModelScopeAPI(endpoint: endpoint)
        let auth = api.authHeaders(token: options.token(for: repo.hub))
        return try await HubHTTP.with(options) { http in
            let listing: HubListing
            do {
                listing = try await api.listFiles(repo, http: http, auth: auth)
            } catch HubError.network(let url, _, let underlying) {
                throw HubError.notAvailable(repo: repo, lookedIn: lookedIn,
                                            reason: "\(repo.hub) cannot be reached at \(url): \(underlying)")
            }
            if let bad = listing.files.first(where: { !HubFiles.isSafeRelativePath($0.path) }) {
                throw HubError.invalidListing(url: endpoint, reason: "unsafe file path '\(bad.path)'")
            }
            let files = repo.kind == .model ? try HubFileSelection.modelFiles(listing.files, repo: repo, options: options)
                : listing.files
            if files.isEmpty { throw HubError.noMatchingFiles(repo: repo, patterns: ["*"]) }
            try await HubDownloader(http: http, api: api, layout: layout, auth: auth).download(files, commit: listing.commit)
            let snapshot = layout.snapshotFolder(commit: listing.commit)
            return try usable(snapshot, repo: repo, options: options) ?? snapshot
        }
    }
}
