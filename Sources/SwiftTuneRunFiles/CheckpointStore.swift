import Foundation

/// The `checkpoint-N` folders of a run, written atomically: files go into a hidden temporary folder that is
/// renamed to its final name only when complete, so an interrupted or failed save never leaves a folder that
/// looks like a checkpoint.
public struct CheckpointStore: Sendable {
    /// What a checkpoint folder's name starts with (`checkpoint-100`).
    public static let folderPrefix = "checkpoint-"

    public let runFolder: URL

    public init(runFolder: URL) { self.runFolder = runFolder }

    /// N of a `checkpoint-N` folder name; nil for any other name.
    public static func step(of name: String) -> Int? {
        guard name.hasPrefix(folderPrefix), let step = Int(name.dropFirst(folderPrefix.count)), step >= 0 else { return nil }
        return step
    }

    public func folder(step: Int) -> URL { runFolder.appendingPathComponent("\(Self.folderPrefix)\(step)") }

    /// Writes checkpoint `step`: `fill` writes every file into the folder it is given.
    @discardableResult
    public func save(step: Int, _ fill: (URL) throws -> Void) throws -> URL {
        let manager = FileManager.default
        let final = folder(step: step)
        let temporary = runFolder.appendingPathComponent(".checkpoint-\(step).partial-\(UUID().uuidString)")
        do {
            try manager.createDirectory(at: temporary, withIntermediateDirectories: true)
            try fill(temporary)
            if manager.fileExists(atPath: final.path) {
                // Replace an existing checkpoint of the same step (a resumed run saving again): a hard exit
                // (`ExitGuard`) waits for both renames, and `removeLeftovers` puts `old` back after a kill between them.
                let old = runFolder.appendingPathComponent(".checkpoint-\(step).old-\(UUID().uuidString)")
                try ExitGuard.withoutExit {
                    try manager.moveItem(at: final, to: old)
                    try manager.moveItem(at: temporary, to: final)
                }
                try? manager.removeItem(at: old)
            } else {
                try manager.moveItem(at: temporary, to: final)
            }
            return final
        } catch {
            try? manager.removeItem(at: temporary)
            throw RunFileError.checkpointWriteFailed(path: final.path, reason: "\(error)")
        }
    }

    /// The complete checkpoints, oldest step first.
    public func checkpoints() -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runFolder.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            Self.step(of: name).map { ($0, runFolder.appendingPathComponent(name)) }
        }.sorted { $0.0 < $1.0 }
    }

    /// The checkpoint with the highest step (ms-swift's `last_model_checkpoint`), if any.
    public var last: URL? { checkpoints().last?.url }

    /// The checkpoint with the best eval metric, as the last checkpoint's `trainer_state.json` records it
    /// (`best_model_checkpoint`), when that folder still exists; else the last checkpoint.
    public func best() -> URL? {
        guard let last else { return nil }
        let recorded = (try? TrainerState(contentsOf: last.appendingPathComponent(TrainerState.fileName)))?
            .bestModelCheckpoint.map { URL(fileURLWithPath: $0) }
        guard let recorded, FileManager.default.fileExists(atPath: recorded.path) else { return last }
        return recorded
    }

    /// Deletes the oldest checkpoints so at most `limit` remain, never deleting `keep` (the best one).
    public func rotate(limit: Int?, keep: URL?) throws {
        guard let limit, limit > 0 else { return }
        var all = checkpoints()
        while all.count > limit {
            guard let victim = all.first(where: { $0.url.standardizedFileURL != keep?.standardizedFileURL }) else { return }
            // Renamed first, so an exit during the removal leaves a hidden leftover, not a half-deleted checkpoint.
            let doomed = runFolder.appendingPathComponent(".checkpoint-\(victim.step).deleted-\(UUID().uuidString)")
            try FileManager.default.moveItem(at: victim.url, to: doomed)
            try FileManager.default.removeItem(at: doomed)
            all.removeAll { $0.url == victim.url }
        }
    }

    /// Removes temporary folders left by a save or a rotation that was killed; a replaced checkpoint whose
    /// successor never got its final name (killed between the two renames) is put back first.
    public func removeLeftovers() {
        let manager = FileManager.default
        let names = (try? manager.contentsOfDirectory(atPath: runFolder.path)) ?? []
        for name in names where name.hasPrefix(".\(Self.folderPrefix)") && name.contains(".old-") {
            let step = name.dropFirst(".\(Self.folderPrefix)".count).prefix { $0 != "." }
            guard let step = Int(step), !manager.fileExists(atPath: folder(step: step).path) else { continue }
            try? manager.moveItem(at: runFolder.appendingPathComponent(name), to: folder(step: step))
        }
        for name in (try? manager.contentsOfDirectory(atPath: runFolder.path)) ?? [] where name.hasPrefix(".\(Self.folderPrefix)") {
            try? manager.removeItem(at: runFolder.appendingPathComponent(name))
        }
    }
}
