import Foundation
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
private let systemClose = Glibc.close
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
private let systemClose = Darwin.close
#endif

/// Writes a file atomically: into a hidden temporary file in the same directory, flushed to disk, then renamed
/// over the final name. Readers see the old file or the complete new one, never a partial one; on any error the
/// temporary file is removed and the final name is left untouched.
enum AtomicFile {
    /// Runs `body` with a sink for the new contents of `url`, then publishes them.
    static func write(to url: URL, _ body: (FileSink) throws -> Void) throws {
        let finalPath = url.path
        let directory = url.deletingLastPathComponent().path
        let temporaryPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw CheckpointError.io(path: directory, operation: "create a temporary file", reason: MappedFile.lastError())
        }
        let sink = FileSink(descriptor: descriptor, path: temporaryPath)
        do {
            try body(sink)
            guard fsync(descriptor) == 0 else {
                throw CheckpointError.io(path: temporaryPath, operation: "fsync", reason: MappedFile.lastError())
            }
            sink.close()
            guard rename(temporaryPath, finalPath) == 0 else {
                throw CheckpointError.io(path: finalPath, operation: "rename", reason: MappedFile.lastError())
            }
        } catch {
            sink.close()
            unlink(temporaryPath)
            throw error
        }
        // Make the rename itself durable; failure here does not undo a completed write.
        let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}

/// The write end of an `AtomicFile`: appends bytes, retrying short writes.
final class FileSink {
    private var descriptor: Int32
    let path: String
    /// Bytes written so far.
    private(set) var offset = 0

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Appends `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var address = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = systemWrite(descriptor, address, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.io(path: path, operation: "write", reason: MappedFile.lastError())
            }
            address += written
            remaining -= written
            offset += written
        }
    }

    /// Appends `bytes`.
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Closes the descriptor once; later calls do nothing.
    func close() {
        if descriptor >= 0 {
            _ = systemClose(descriptor)
            descriptor = -1
        }
    }

    deinit { close() }
}

/// Writes small files (configs, JSON, text) the way checkpoint files are written: to a temporary name in the same
/// folder, flushed, then renamed, so a reader never sees a half-written file under the final name.
public enum AtomicFileWriter {
    /// Writes `data` to `url` atomically; on error nothing appears under `url` (an old file stays).
    public static func write(_ data: Data, to url: URL) throws {
        try AtomicFile.write(to: url) { sink in try data.withUnsafeBytes { try sink.write($0) } }
    }

    /// Writes `text` as UTF-8.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}
