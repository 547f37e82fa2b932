import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An export's output folder, filled in a hidden staging folder next to it (`.NAME.partial-UUID`) and published
/// at the end: renamed into place, or, with `--exist_ok` and an existing folder, each file renamed over its old
/// version (stale weight files of an earlier export removed). Until `publish`, nothing appears under the final
/// name; an interrupted export leaves only the hidden staging folder, which the next export into the same place
/// removes.
final class OutputFolder {
    let final: URL
    let staging: URL
    private var published = false

    /// Checks `final` and creates the staging folder.
    ///
    /// - Throws: `ExportError.outputExists` when `final` exists and `existOK` is false.
    init(final: URL, existOK: Bool) throws {
        self.final = final.standardizedFileURL
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: self.final.path, isDirectory: &isDirectory) {
            guard existOK else { throw ExportError.outputExists(path: self.final.path) }
            guard isDirectory.boolValue else {
                throw ExportError.invalidRequest(reason: "\(self.final.path) exists and is not a folder",
                                                 hint: "choose another --output_dir")
            }
        }
        let parent = self.final.deletingLastPathComponent()
        try manager.createDirectory(at: parent, withIntermediateDirectories: true)
        let prefix = ".\(self.final.lastPathComponent).partial-"
        for leftover in (try? manager.contentsOfDirectory(atPath: parent.path)) ?? [] where leftover.hasPrefix(prefix) {
            try? manager.removeItem(at: parent.appendingPathComponent(leftover))
        }
        staging = parent.appendingPathComponent(prefix + UUID().uuidString)
        try manager.createDirectory(at: staging, withIntermediateDirectories: false)
    }

    /// The folder whose file system receives the output (for the free-space check).
    var volume: URL { staging }

    /// Moves the staged files into place.
    func publish() throws {
        let manager = FileManager.default
        if !manager.fileExists(atPath: final.path) {
            try manager.moveItem(at: staging, to: final)
            published = true
            return
        }
        let staged = try manager.contentsOfDirectory(atPath: staging.path)
        // Weights of an earlier export that this one does not replace would mix two models.
        for old in try manager.contentsOfDirectory(atPath: final.path) where !staged.contains(old) && Self.isWeightFile(old) {
            try manager.removeItem(at: final.appendingPathComponent(old))
        }
        for name in staged {
            let target = final.appendingPathComponent(name)
            if rename(staging.appendingPathComponent(name).path, target.path) != 0 {
                throw ExportError.invalidRequest(reason: "could not move \(name) into \(final.path): \(String(cString: strerror(errno)))",
                                                 hint: "check the folder's permissions")
            }
        }
        try? manager.removeItem(at: staging)
        published = true
    }

    /// Removes the staging folder (after a failure).
    func discard() {
        if !published { try? FileManager.default.removeItem(at: staging) }
    }

    /// Weight files an export writes: `model.safetensors`, `model-0000i-of-0000n.safetensors`, the index, `model.gguf`.
    static func isWeightFile(_ name: String) -> Bool {
        if ["model.safetensors", "model.safetensors.index.json", "model.gguf"].contains(name) { return true }
        return name.hasPrefix("model-") && name.hasSuffix(".safetensors") && name.contains("-of-")
    }
}
