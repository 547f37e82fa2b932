import Foundation

/// ms-swift's run folder: `output_dir/vN-YYYYMMDD-HHMMSS/`, N one more than the highest existing version.
public enum RunFolder {
    /// Creates and returns the run folder. With `addVersion` false, `outputDirectory` itself is used.
    public static func create(outputDirectory: URL, addVersion: Bool = true, date: Date = Date()) throws -> URL {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.unwritableOutput(path: outputDirectory.path, reason: error.localizedDescription)
        }
        guard manager.isWritableFile(atPath: outputDirectory.path) else {
            throw TrainingError.unwritableOutput(path: outputDirectory.path, reason: "permission denied")
        }
        guard addVersion else { return outputDirectory }
        let existing = (try? manager.contentsOfDirectory(atPath: outputDirectory.path)) ?? []
        let next = (existing.compactMap(version(of:)).max() ?? -1) + 1
        let folder = outputDirectory.appendingPathComponent("v\(next)-\(timestamp(date))")
        try manager.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// N of a `vN-…` folder name.
    static func version(of name: String) -> Int? {
        guard name.hasPrefix("v"), let dash = name.firstIndex(of: "-") else { return nil }
        return Int(name[name.index(after: name.startIndex)..<dash])
    }

    /// `YYYYMMDD-HHMMSS` in local time, as ms-swift writes it.
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }
}
