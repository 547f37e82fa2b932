import Foundation

/// A download's progress: one file's bytes and the whole repository's, for a progress bar.
public struct HubProgress: Sendable, Equatable {
    /// The repository path of the file that just advanced.
    public var file: String
    /// Bytes of `file` on disk (resumed bytes included).
    public var fileBytes: Int64
    /// `file`'s size (0 when the listing gives none).
    public var fileTotal: Int64
    /// Bytes of every selected file on disk (cached and resumed bytes included).
    public var bytes: Int64
    /// The selected files' total size.
    public var total: Int64
    /// Files finished (cached, downloaded and checked).
    public var filesDone: Int
    /// Files selected.
    public var fileCount: Int

    public init(file: String, fileBytes: Int64, fileTotal: Int64, bytes: Int64, total: Int64, filesDone: Int, fileCount: Int) {
        self.file = file
        self.fileBytes = fileBytes
        self.fileTotal = fileTotal
        self.bytes = bytes
        self.total = total
        self.filesDone = filesDone
        self.fileCount = fileCount
    }

    /// `bytes / total` in 0...1 (1 when the total is unknown and every file is done).
    public var fraction: Double {
        total > 0 ? min(1, Double(bytes) / Double(total)) : (filesDone == fileCount ? 1 : 0)
    }
}

/// Adds up per-file progress from concurrent downloads and reports it.
final class HubProgressTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var perFile: [String: Int64] = [:]
    private var bytes: Int64 = 0
    private var filesDone = 0
    private let total: Int64
    private let fileCount: Int
    private let report: (@Sendable (HubProgress) -> Void)?

    init(files: [HubRemoteFile], report: (@Sendable (HubProgress) -> Void)?) {
        total = files.reduce(0) { $0 + ($1.size ?? 0) }
        fileCount = files.count
        self.report = report
    }

    /// Records that `file` now has `fileBytes` on disk (it may go down when a partial file is discarded).
    func update(_ file: HubRemoteFile, fileBytes: Int64, done: Bool = false) {
        let progress: HubProgress = lock.withLock {
            bytes += fileBytes - (perFile[file.path] ?? 0)
            perFile[file.path] = fileBytes
            if done { filesDone += 1 }
            return HubProgress(file: file.path, fileBytes: fileBytes, fileTotal: file.size ?? 0, bytes: bytes,
                               total: total, filesDone: filesDone, fileCount: fileCount)
        }
        report?(progress)
    }
}
