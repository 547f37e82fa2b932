import Foundation

/// Everything that can go wrong while resolving or downloading a model or dataset. Each message says what,
/// where (id, file, URL, folder), expected vs got where there is one, and what to do.
public enum HubError: Error, CustomStringConvertible, Equatable, Sendable {
    // MARK: Local paths

    /// Nothing exists at `path`.
    case notFound(path: String)
    /// A model folder lacks files it needs (`missing`); `found` lists what is there.
    case incompleteModelFolder(path: String, missing: [String], found: [String])
    /// A folder holds several GGUF files and none was named.
    case ambiguousLocalGGUF(path: String, files: [String])
    /// The file is neither a GGUF file nor part of a model folder.
    case unrecognizedFile(path: String, reason: String)
    /// A GGUF file has no tokenizer (`tokenizer.ggml.*`), so no text can be encoded.
    case missingTokenizer(path: String, key: String)


    // MARK: Hub resolution and downloads

    /// `--model` / `--dataset` is neither an existing path nor an `ORG/NAME` id.
    case invalidSpec(String, reason: String)
    /// Not in any cache and downloads are off (`HF_HUB_OFFLINE=1`, `--offline`) or the hub cannot be reached.
    case notAvailable(repo: HubRepo, lookedIn: [String], reason: String)
    /// The hub answered 404: no such repository, revision or file.
    case notFoundOnHub(repo: HubRepo, url: String)
    /// The hub answered 401 or 403.
    case unauthorized(repo: HubRepo, url: String, status: Int, tokenSent: Bool)
    /// Any other unexpected HTTP status.
    case httpStatus(url: String, status: Int, body: String)
    /// The hub's file listing could not be read.
    case invalidListing(url: String, reason: String)
    /// A downloaded file's SHA-256 differs from the one in the hub's listing (after one fresh retry).
    case checksumMismatch(file: String, expected: String, got: String)
    /// A downloaded file's length differs from the one in the hub's listing.
    case sizeMismatch(file: String, expected: Int64, got: Int64)
    /// A connection kept failing after every retry.
    case network(url: String, attempts: Int, underlying: String)
    /// A file or folder of the cache could not be written or read (a full disk, say); partial files are kept.
    case fileSystem(path: String, reason: String)
    /// The cache's file system has less free space than the files still to download (checked before any).
    case insufficientDiskSpace(path: String, needed: Int64, available: Int64)
    /// The repository holds several GGUF files and no safetensors weights: one must be chosen.
    case ambiguousGGUF(repo: HubRepo, files: [String])
    /// The repository has no file that the selection (patterns, GGUF file) asks for.
    case noMatchingFiles(repo: HubRepo, patterns: [String])

    /// `bytes` for people: "1.50 GB", "12.0 MB", "800 B" (decimal units, as the hubs list sizes).
    static func size(_ bytes: Int64) -> String {
        let value = Double(bytes)
        if value >= 1e9 { return String(format: "%.2f GB", value / 1e9) }
        if value >= 1e6 { return String(format: "%.1f MB", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1f kB", value / 1e3) }
        return "\(bytes) B"
    }

    /// What `--model` takes, the one hint every command gives for a model it cannot find.
    public static let modelHint = "--model takes an HF model folder (config.json, *.safetensors, tokenizer.json), "
        + "a .gguf file or a hub id ORG/NAME"

    public var description: String {
        switch self {
        case let .notFound(path):
            return "\(path): no such file or folder (hint: \(Self.modelHint))"
        case let .incompleteModelFolder(path, missing, found):
            let contents = found.isEmpty ? "it is empty" : "it holds " + found.prefix(12).joined(separator: ", ")
                + (found.count > 12 ? ", …" : "")
            return "\(path): not a complete model folder: missing \(missing.joined(separator: ", ")); \(contents) "
                + "(hint: download the whole model repository, or pass a .gguf file)"
        case let .ambiguousLocalGGUF(path, files):
            return "\(path): holds several GGUF files (\(files.joined(separator: ", "))) (hint: pass the one to load)"
        case let .unrecognizedFile(path, reason):
            return "\(path): \(reason) (hint: pass a model folder or a .gguf file)"
        case let .missingTokenizer(path, key):
            return "\(path): the GGUF file has no tokenizer (no \"\(key)\") (hint: use a GGUF converted with its "
                + "tokenizer, as llama.cpp's convert_hf_to_gguf.py writes them)"
        case let .invalidSpec(spec, reason):
            return "'\(spec)': \(reason)"
        case let .notAvailable(repo, lookedIn, reason):
            let places = lookedIn.map { "  \($0)" }.joined(separator: "\n")
            let download = repo.kind == .model ? "swift-tune download --model \(repo.id)" + (repo.hub == .huggingFace ? " --use_hf true" : "")
                : (repo.hub == .huggingFace ? "huggingface-cli download --repo-type dataset \(repo.id)" : "modelscope download --dataset \(repo.id)")
            let flag = repo.kind == .model ? "--model" : "--dataset"
            return """
                \(repo.kind) '\(repo.id)' (revision \(repo.revision)) is not in a local cache and cannot be downloaded: \(reason).
                Looked for it in:
                \(places)
                To get it: on a machine with network access run `\(download)` and copy the cache folder to the same \
                place here (or set HF_HOME / MODELSCOPE_CACHE to it), or download the files anywhere and pass the \
                folder: \(flag) /path/to/folder
                """
        case let .notFoundOnHub(repo, url):
            return "\(repo.kind) '\(repo.id)' (revision \(repo.revision)) was not found on \(repo.hub) (404 for \(url)); "
                + "check the id and --revision" + (repo.hub == .modelScope ? ", or pass --use_hf true to use the Hugging Face hub" : "")
        case let .unauthorized(repo, url, status, tokenSent):
            let hint = tokenSent ? "the token was refused: check that it is valid and has access (gated repositories need their terms accepted on the hub's page)"
                : "pass --hub_token or set \(repo.hub == .huggingFace ? "HF_TOKEN" : "MODELSCOPE_API_TOKEN")"
            return "\(repo.kind) '\(repo.id)' on \(repo.hub) needs authorization (\(status) for \(url)): \(hint)"
        case let .httpStatus(url, status, body):
            return "HTTP \(status) for \(url)" + (body.isEmpty ? "" : ": \(body)")
        case let .invalidListing(url, reason):
            return "the file listing from \(url) could not be read: \(reason)"
        case let .checksumMismatch(file, expected, got):
            return "\(file): SHA-256 mismatch after download (expected \(expected), got \(got)); the partial file was deleted, run again to retry"
        case let .sizeMismatch(file, expected, got):
            return "\(file): size mismatch after download (expected \(expected) bytes, got \(got)); the partial file was deleted, run again to retry"
        case let .network(url, attempts, underlying):
            return "\(url): the connection failed \(attempts) time(s) (\(underlying)); partial files are kept, run again to resume"
        case let .fileSystem(path, reason):
            return "\(path): \(reason) (partial downloads are kept for resuming)"
        case let .insufficientDiskSpace(path, needed, available):
            return "\(path): the download needs \(Self.size(needed)) but the disk has \(Self.size(available)) free; "
                + "nothing was downloaded (hint: free some space, or point HF_HOME / MODELSCOPE_CACHE at a larger disk)"
        case let .ambiguousGGUF(repo, files):
            return "\(repo.kind) '\(repo.id)' has no safetensors weights but several GGUF files: \(files.joined(separator: ", ")); "
                + "choose one (HubOptions.ggufFile or an allow pattern such as '*Q8_0.gguf')"
        case let .noMatchingFiles(repo, patterns):
            return "\(repo.kind) '\(repo.id)' on \(repo.hub) has no file matching \(patterns.joined(separator: ", "))"
        }
    }
}
