import Foundation

/// ms-swift's run folder: `output_dir/vN-YYYYMMDD-HHMMSS/`, N one more than the highest existing version, holding
/// `args.json`, `logging.jsonl`, `val_dataset.jsonl` (when the data was split), `images/` and the `checkpoint-N`
/// folders (`CheckpointStore`).
public enum RunFolder {
    /// The run's arguments (`RunArguments`), also copied into every checkpoint.
    public static let argumentsFileName = RunArguments.fileName
    /// One JSON record per line (`TrainingLog`).
    public static let logFileName = TrainingLog.fileName
    /// The held-out rows, one JSON row per line.
    public static let validationFileName = "val_dataset.jsonl"
    /// The training curves (SVG).
    public static let imagesFolderName = "images"

    /// Creates and returns the run folder. With `addVersion` false, `outputDirectory` itself is used.
    public static func create(outputDirectory: URL, addVersion: Bool = true, date: Date = Date()) throws -> URL {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw RunFileError.unwritableOutput(path: outputDirectory.path, reason: error.localizedDescription)
        }
        guard manager.isWritableFile(atPath: outputDirectory.path) else {
            throw RunFileError.unwritableOutput(path: outputDirectory.path, reason: "permission denied")
        }
        guard addVersion else { return outputDirectory }
        let existing = (try? manager.contentsOfDirectory(atPath: outputDirectory.path)) ?? []
        let next = (existing.compactMap(version(of:)).max() ?? -1) + 1
        let folder = outputDirectory.appendingPathComponent("v\(next)-\(timestamp(date))")
        try manager.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// N of a `vN-…` folder name.
    public static func version(of name: String) -> Int? {
        guard name.hasPrefix("v"), let dash = name.firstIndex(of: "-") else { return nil }
        return Int(name[name.index(after: name.startIndex)..<dash])
    }

    /// The run folders under `outputDirectory`, lowest version first.
    public static func runs(in outputDirectory: URL) -> [(version: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outputDirectory.path)) ?? []
        return names.compactMap { name in version(of: name).map { ($0, outputDirectory.appendingPathComponent(name)) } }
            .sorted { $0.0 < $1.0 }
    }

    /// The run folder a file or checkpoint belongs to: the folder itself, or its parent for a `checkpoint-N` folder.
    public static func enclosing(_ folder: URL) -> URL {
        CheckpointStore.step(of: folder.lastPathComponent) != nil ? folder.deletingLastPathComponent() : folder
    }

    /// `YYYYMMDD-HHMMSS` in local time, as ms-swift writes it.
    public static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }
}
