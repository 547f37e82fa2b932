import Foundation

/// The two hubs ms-swift downloads from.
public enum Hub: String, Sendable, CustomStringConvertible {
    case huggingFace = "the Hugging Face hub"
    case modelScope = "ModelScope"

    public var description: String { rawValue }

    /// ms-swift's default revision on each hub (`main` on HF, `master` on ModelScope).
    public var defaultRevision: String { self == .huggingFace ? "main" : "master" }
}

/// What a repository holds: the hubs have different URLs and cache folders for each.
public enum HubRepoKind: String, Sendable, CustomStringConvertible {
    case model, dataset
    public var description: String { rawValue }
}

/// One repository at one revision on one hub: `Qwen/Qwen2.5-0.5B-Instruct` at `main` on the HF hub.
public struct HubRepo: Sendable, Equatable, CustomStringConvertible {
    public var hub: Hub
    public var kind: HubRepoKind
    /// `ORG/NAME`.
    public var id: String
    /// A branch, tag or commit.
    public var revision: String

    public init(hub: Hub, kind: HubRepoKind, id: String, revision: String? = nil) {
        self.hub = hub
        self.kind = kind
        self.id = id
        self.revision = revision ?? hub.defaultRevision
    }

    public var owner: String { String(id.split(separator: "/", maxSplits: 1).first ?? "") }
    public var name: String { String(id.split(separator: "/", maxSplits: 1).last ?? "") }

    public var description: String { "\(kind) \(id)@\(revision) on \(hub)" }

    /// Whether `text` is a hub id: `ORG/NAME` with one slash, no spaces, not a path (`./x`, `/x`, `~/x`).
    public static func isValidID(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        return parts.allSatisfy { part in
            !part.isEmpty && part != "." && part != ".." && !part.hasPrefix("~") && !part.contains("--")
                && part.unicodeScalars.allSatisfy { allowed.contains($0) }
        }
    }
}

/// One file of a repository as the hub lists it.
public struct HubRemoteFile: Sendable, Equatable {
    /// The path inside the repository (`model-00001-of-00002.safetensors`, `data/train.jsonl`).
    public var path: String
    /// Bytes, when listed.
    public var size: Int64?
    /// Lower-case hex SHA-256 of the content, when listed (HF: LFS files; ModelScope: every file).
    public var sha256: String?
    /// HF's git blob id (the ETag of a non-LFS file, and its blob's name in the HF cache).
    public var blobID: String?
    /// ModelScope's commit of the file (recorded in its cache index).
    public var revision: String?

    public init(path: String, size: Int64? = nil, sha256: String? = nil, blobID: String? = nil, revision: String? = nil) {
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.blobID = blobID
        self.revision = revision
    }
}

/// A repository's files at one commit.
public struct HubListing: Sendable, Equatable {
    /// The commit the revision points to (HF's `sha`; ModelScope's per-file `Revision` when they agree).
    public var commit: String?
    public var files: [HubRemoteFile]
}
