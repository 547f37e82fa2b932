import Foundation
import SwiftTuneCheckpoint

/// How `--model` / `--dataset` ids are resolved and downloaded: ms-swift's `--use_hf`, `--hub_token`, `--revision`,
/// plus the environment ms-swift and the hubs' own clients read (`USE_HF`, `HF_ENDPOINT`, `HF_HOME`, `HF_HUB_CACHE`, `HF_TOKEN`,
/// `HF_HUB_OFFLINE`, `MODELSCOPE_DOMAIN`, `MODELSCOPE_CACHE`, `MODELSCOPE_API_TOKEN`).
public struct HubOptions: Sendable {
    /// Download from the HF hub instead of ModelScope (`--use_hf true`; ms-swift's `USE_HF=1` sets the default).
    public var useHF: Bool
    /// Branch, tag or commit (`--revision`); nil means `main` on HF, `master` on ModelScope.
    public var revision: String?
    /// `--hub_token`: sent as `Authorization: Bearer` to whichever hub is used; overrides the environment's.
    public var token: String?
    /// Never touch the network (`--offline`, `HF_HUB_OFFLINE=1`, `TRANSFORMERS_OFFLINE=1`).
    public var offline: Bool = false
    /// The HF hub (`HF_ENDPOINT`, default `https://huggingface.co`).
    public var hfEndpoint: String
    /// ModelScope (`https://` + `MODELSCOPE_DOMAIN`, default `https://www.modelscope.cn`).
    public var modelScopeEndpoint: String
    /// The HF cache: `HF_HUB_CACHE`, else `HF_HOME/hub`, else `XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
    public var hfCache: URL
    /// The ModelScope cache of modelscope ≤ 1.37 (`models/org/name/`), which every modelscope version reads and
    /// downloads go to: `MODELSCOPE_CACHE`, else `~/.cache/modelscope/hub`.
    public var modelScopeCache: URL
    /// The cache root of modelscope ≥ 1.38 (modelscope-hub: `models/org--name/snapshots/<revision>/`), looked in
    /// too: `MODELSCOPE_CACHE`, else `~/.cache/modelscope`.
    public var modelScopeSnapshotCache: URL
    /// The HF token from the environment: `HF_TOKEN`, else the file `HF_TOKEN_PATH` or `HF_HOME/token`.
    public var hfEnvironmentToken: String?
    /// The ModelScope token from the environment: `MODELSCOPE_API_TOKEN`.
    public var modelScopeEnvironmentToken: String?
    /// Model files to fetch, as shell globs over repository paths (`*.json`, `*Q8_0.gguf`); nil means
    /// ``HubFileSelection/modelPatterns`` (config, tokenizer and safetensors files). Datasets fetch every file.
    public var allowPatterns: [String]?
    /// One GGUF file of the repository to fetch (and to return from ``HubResolver/resolveModel(_:options:)``).
    public var ggufFile: String?
    /// Files downloaded at once.
    public var maxParallelFiles: Int = 4
    /// Tries per request when connections drop or the hub answers 429/5xx.
    public var maxAttempts: Int = 5
    /// The first retry's wait; doubled each time, at most 8 s.
    public var retryDelay: Duration = .milliseconds(500)
    /// Connecting must succeed within this.
    public var connectTimeout: Duration = .seconds(10)
    /// A response that sends nothing for this long is dropped and retried.
    public var readTimeout: Duration = .seconds(60)
    /// Called as bytes arrive (from several tasks: the callback must be thread-safe); nil for none.
    public var progress: (@Sendable (HubProgress) -> Void)?
    /// Free bytes of the file system of a folder (nil when unknown): the check before a download. Tests
    /// replace it to play a small disk.
    var availableBytes: @Sendable (URL) -> Int64? = FileSystemSpace.availableBytes
    /// Appends one received piece to a partial file. Tests replace it to play a disk that fills mid-file.
    var writePiece: @Sendable (FileHandle, Data) throws -> Void = { handle, piece in try handle.write(contentsOf: piece) }

    /// Options from `environment` (the process's by default) with ms-swift's defaults.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func value(_ key: String) -> String? {
            guard let v = environment[key]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        let home = value("HOME").map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        func path(_ text: String) -> URL {
            if text == "~" { return home }
            if text.hasPrefix("~/") { return home.appendingPathComponent(String(text.dropFirst(2)), isDirectory: true) }
            return URL(fileURLWithPath: text, isDirectory: true)
        }
        let xdgCache = value("XDG_CACHE_HOME").map(path) ?? home.appendingPathComponent(".cache", isDirectory: true)
        let hfHome = value("HF_HOME").map(path) ?? xdgCache.appendingPathComponent("huggingface", isDirectory: true)
        hfCache = (value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE")).map(path)
            ?? hfHome.appendingPathComponent("hub", isDirectory: true)
        modelScopeCache = value("MODELSCOPE_CACHE").map(path)
            ?? home.appendingPathComponent(".cache/modelscope/hub", isDirectory: true)
        modelScopeSnapshotCache = value("MODELSCOPE_CACHE").map(path)
            ?? home.appendingPathComponent(".cache/modelscope", isDirectory: true)

        hfEndpoint = Self.trimmedEndpoint(value("HF_ENDPOINT") ?? "https://huggingface.co")
        let domain = value("MODELSCOPE_DOMAIN") ?? "www.modelscope.cn"
        modelScopeEndpoint = Self.trimmedEndpoint(domain.contains("://") ? domain : "https://" + domain)

        let tokenFile = value("HF_TOKEN_PATH").map(path) ?? hfHome.appendingPathComponent("token")
        hfEnvironmentToken = value("HF_TOKEN") ?? value("HUGGING_FACE_HUB_TOKEN")
            ?? (try? String(contentsOf: tokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                .hubNonEmpty
        modelScopeEnvironmentToken = value("MODELSCOPE_API_TOKEN")

        // Python's strtobool, as ms-swift and huggingface_hub read these
        func isTrue(_ key: String) -> Bool { ["1", "y", "yes", "t", "true", "on"].contains(value(key)?.lowercased() ?? "") }
        offline = isTrue("HF_HUB_OFFLINE") || isTrue("TRANSFORMERS_OFFLINE")
        useHF = isTrue("USE_HF")
    }

    /// The hub that downloads go to (`hf::` / `ms::` dataset prefixes override `useHF`).
    public func hub(prefer useHF: Bool? = nil) -> Hub { (useHF ?? self.useHF) ? .huggingFace : .modelScope }

    /// The token sent to `hub`: `--hub_token`, else that hub's environment token.
    public func token(for hub: Hub) -> String? {
        token?.hubNonEmpty ?? (hub == .huggingFace ? hfEnvironmentToken : modelScopeEnvironmentToken)
    }

    /// The endpoint of `hub`, without a trailing slash.
    public func endpoint(for hub: Hub) -> String { hub == .huggingFace ? hfEndpoint : modelScopeEndpoint }

    static func trimmedEndpoint(_ text: String) -> String {
        var s = text
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }
}

extension String {
    var hubNonEmpty: String? { isEmpty ? nil : self }
}
