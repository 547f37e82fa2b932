import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which files of a repository to fetch, and what of a downloaded folder to hand to the loader.
public enum HubFileSelection {
    /// A model's config, tokenizer and safetensors files (no `.bin`, `.pth`, `.onnx`, `.gguf` or images).
    public static let modelPatterns = ["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken", "*.jinja"]

    /// What a folder of model files gives the loader.
    public enum Loadable: Equatable, Sendable {
        /// An HF model folder (config.json and its safetensors weights).
        case folder(URL)
        /// A GGUF file.
        case file(URL)
        /// Weights are missing (a download was cut short, or never made).
        case incomplete
        /// Several GGUF files and nothing to choose among them.
        case ambiguous([String])
    }

    /// Whether `path` matches a shell glob, as Python's `fnmatch` (and so ModelScope's and HF's allow patterns):
    /// `*` also matches `/`.
    public static func matches(_ path: String, _ pattern: String) -> Bool {
        fnmatch(pattern, path, 0) == 0
    }

    /// The files of `listing` to download for a model: `options.ggufFile`, else `options.allowPatterns`, else
    /// ``modelPatterns`` (plus the repository's only GGUF file when it has no safetensors weights).
    static func modelFiles(_ files: [HubRemoteFile], repo: HubRepo, options: HubOptions) throws -> [HubRemoteFile] {
        if let gguf = options.ggufFile {
            let chosen = files.filter { $0.path == gguf }
            if chosen.isEmpty { throw HubError.noMatchingFiles(repo: repo, patterns: [gguf]) }
            return chosen
        }
        if let patterns = options.allowPatterns {
            let chosen = files.filter { file in patterns.contains { matches(file.path, $0) } }
            if chosen.isEmpty { throw HubError.noMatchingFiles(repo: repo, patterns: patterns) }
            return chosen
        }
        var chosen = files.filter { file in modelPatterns.contains { matches(file.path, $0) } }
        if !chosen.contains(where: { $0.path.hasSuffix(".safetensors") }) {
            let ggufs = files.filter { $0.path.hasSuffix(".gguf") }
            if ggufs.count > 1 { throw HubError.ambiguousGGUF(repo: repo, files: ggufs.map(\.path)) }
            chosen += ggufs
        }
        if chosen.isEmpty { throw HubError.noMatchingFiles(repo: repo, patterns: modelPatterns) }
        return chosen
    }

    /// What `folder` holds for the loader. With `ggufFile` set, that file or nothing. Otherwise an HF folder
    /// when `config.json` is there with its weights (every shard of `model.safetensors.index.json`, or a
    /// `*.safetensors` file), else the folder's one GGUF file.
    public static func loadable(model folder: URL, ggufFile: String? = nil) -> Loadable {
        if let ggufFile {
            let file = folder.appendingPathComponent(ggufFile)
            return HubFiles.size(file) != nil ? .file(file) : .incomplete
        }
        let files = HubFiles.files(under: folder)
        if files.contains("config.json") {
            let index = folder.appendingPathComponent("model.safetensors.index.json")
            if HubFiles.size(index) != nil {
                guard let shards = shardNames(index: index) else { return .incomplete }
                return shards.allSatisfy { files.contains($0) } ? .folder(folder) : .incomplete
            }
            if files.contains(where: { $0.hasSuffix(".safetensors") }) { return .folder(folder) }
        }
        let ggufs = files.filter { $0.hasSuffix(".gguf") }
        switch ggufs.count {
        case 0: return .incomplete
        case 1: return .file(folder.appendingPathComponent(ggufs[0]))
        default: return .ambiguous(ggufs)
        }
    }

    /// Whether a dataset folder has any file.
    static func isLoadable(dataset folder: URL) -> Bool { !HubFiles.files(under: folder).isEmpty }

    /// The shard files named by an index's `weight_map`, nil if it cannot be read.
    static func shardNames(index: URL) -> Set<String>? {
        guard let data = try? Data(contentsOf: index),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = object["weight_map"] as? [String: Any] else { return nil }
        return Set(map.values.compactMap { $0 as? String })
    }
}
