import Foundation

/// Appends records to `logging.jsonl`, one flushed line each, so a crash keeps every line written so far.
public final class TrainingLog: @unchecked Sendable {
    public static let fileName = "logging.jsonl"

    public let url: URL
    /// Records appended by this process.
    public private(set) var records: [LogRecord] = []
    /// Records already in the file when it was opened (a resumed run's earlier history); a line that does not
    /// read as a record is skipped.
    public let earlierRecords: [LogRecord]
    private let handle: FileHandle

    /// Opens `folder/logging.jsonl`, creating it or appending to it (a resumed run continues the same file).
    public init(folder: URL) throws {
        let url = folder.appendingPathComponent(Self.fileName)
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw RunFileError.unwritableOutput(path: url.path, reason: "cannot create the file")
            }
        }
        earlierRecords = Self.lines(of: url).enumerated().compactMap { index, line in
            try? LogRecord(line: line, path: "\(url.path):\(index + 1)")
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    /// Every record of `folder/logging.jsonl`; a line that is not a record is an error naming the file and line.
    public static func read(folder: URL) throws -> [LogRecord] {
        let url = folder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw RunFileError.unreadable(path: url.path, reason: "does not exist", hint: "it is written by swift-tune sft / pt")
        }
        return try lines(of: url).enumerated().map { index, line in try LogRecord(line: line, path: "\(url.path):\(index + 1)") }
    }

    private static func lines(of url: URL) -> [String] {
        ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    deinit { try? handle.close() }

    public func append(_ record: LogRecord) throws {
        records.append(record)
        try handle.write(contentsOf: Data((record.json + "\n").utf8))
    }
}
