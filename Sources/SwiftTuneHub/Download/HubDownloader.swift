import AsyncHTTPClient
import Foundation
import NIOCore
import SwiftTuneCheckpoint

/// Downloads a repository's selected files into a cache layout: a few files at once, each resumed from its
/// partial file with a `Range` request after a dropped connection, checked against the listed size and
/// SHA-256, and moved into the cache in one rename.
struct HubDownloader: Sendable {
    let http: HubHTTP
    let api: any HubAPI
    let layout: any HubCacheLayout
    let auth: [(String, String)]

    var repo: HubRepo { layout.repo }
    var options: HubOptions { http.options }

    /// Fetches `files` of the listed commit and records the revision in the cache.
    func download(_ files: [HubRemoteFile], commit: String?) async throws {
        let tracker = HubProgressTracker(files: files, report: options.progress)
        try layout.prepare()
        try checkFreeSpace(for: files)
        // Files with the same content share a partial file and a blob in the HF cache: fetch the first of them
        // with the other files, and the rest afterwards, when they find the blob in place.
        var seen = Set<String>()
        let (first, repeats) = files.reduce(into: ([HubRemoteFile](), [HubRemoteFile]())) { lists, file in
            if seen.insert(layout.partialURL(for: file).path).inserted { lists.0.append(file) } else { lists.1.append(file) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = first.makeIterator()
            for _ in 0..<max(1, options.maxParallelFiles) {
                guard let file = pending.next() else { break }
                group.addTask { try await fetch(file, commit: commit, tracker: tracker) }
            }
            while try await group.next() != nil {
                if let file = pending.next() {
                    group.addTask { try await fetch(file, commit: commit, tracker: tracker) }
                }
            }
        }
        for file in repeats { try await fetch(file, commit: commit, tracker: tracker) }
        try layout.finish(commit: commit, files: files)
    }

    /// Refuses to start when the cache's disk has less free space than the files still to fetch (listed sizes
    /// minus cached files and partial bytes), as huggingface_hub checks before a download.
    func checkFreeSpace(for files: [HubRemoteFile]) throws {
        var needed: Int64 = 0, partials = Set<String>()
        for file in files where layout.existingFile(for: file) == nil {
            let partial = layout.partialURL(for: file)
            guard let size = file.size, partials.insert(partial.path).inserted else { continue }
            needed += max(0, size - (HubFiles.size(partial) ?? 0))
        }
        guard let first = files.first else { return }
        let folder = layout.partialURL(for: first).deletingLastPathComponent()
        if needed > 0, let available = options.availableBytes(folder), available < needed {
            throw HubError.insufficientDiskSpace(path: folder.path, needed: needed, available: available)
        }
    }

    /// One file: reuse the cached copy, or download (resuming), check, and move it into the cache. A file
    /// whose size or SHA-256 is wrong is deleted and downloaded once more from scratch before giving up.
    func fetch(_ file: HubRemoteFile, commit: String?, tracker: HubProgressTracker) async throws {
        if let existing = layout.existingFile(for: file) {
            try layout.place(file, stored: existing, commit: commit)
            tracker.update(file, fileBytes: HubFiles.size(existing) ?? 0, done: true)
            return
        }
        let url = api.downloadURL(repo, file: file, commit: commit)
        let partial = layout.partialURL(for: file)
        var freshTries = 0
        while true {
            try await http.withRetries(url: url, attempts: options.maxAttempts) { _ in
                try await transfer(url: url, to: partial, file: file, tracker: tracker)
            }
            let (length, digest) = try Self.sha256(of: partial)
            var failure: HubError?
            if let size = file.size, length != size {
                failure = .sizeMismatch(file: file.path, expected: size, got: length)
            } else if let expected = file.sha256, digest != expected {
                failure = .checksumMismatch(file: file.path, expected: expected, got: digest)
            }
            guard let failure else {
                try HubFiles.rename(partial, to: layout.storedURL(for: file, sha256: digest))
                try layout.place(file, stored: layout.storedURL(for: file, sha256: digest), commit: commit)
                tracker.update(file, fileBytes: length, done: true)
                return
            }
            try? FileManager.default.removeItem(at: partial)
            tracker.update(file, fileBytes: 0)
            freshTries += 1
            if freshTries > 1 { throw failure }
        }
    }

    /// One GET of `file` from its partial file's length to the end, appended to the partial file. Throws
    /// (for a retry) when the connection ends early; the bytes received so far stay on disk.
    func transfer(url: String, to partial: URL, file: HubRemoteFile, tracker: HubProgressTracker) async throws {
        try HubFiles.createDirectory(partial.deletingLastPathComponent())
        var offset = HubFiles.size(partial) ?? 0
        if let size = file.size, offset > size { offset = try Self.truncate(partial) }
        if let size = file.size, offset == size, size > 0 { return }
        tracker.update(file, fileBytes: offset)

        let range = offset > 0 ? [("Range", "bytes=\(offset)-")] : []
        let (response, finalURL) = try await http.get(url, headers: range, auth: auth)
        let status = Int(response.status.code)
        switch status {
        case 206:
            guard Self.rangeStart(response.headers.first(name: "Content-Range")) == offset else {
                _ = try? await response.body.collect(upTo: 1 << 16)
                _ = try Self.truncate(partial)
                throw HubTransientError(url: finalURL, reason: "a Content-Range that does not start at byte \(offset)")
            }
        case 200:
            if offset > 0 { offset = try Self.truncate(partial) }  // the server ignored the Range header
        case 416:
            _ = try? await response.body.collect(upTo: 1 << 16)
            if file.size == nil { return }  // the partial file is whole; the checks decide
            _ = try Self.truncate(partial)
            throw HubTransientError(url: finalURL, reason: "HTTP 416 for bytes=\(offset)-")
        default:
            let body = (try? await response.body.collect(upTo: 1 << 16)).map { Data($0.readableBytesView) } ?? Data()
            try HubHTTP.check(status: status, url: finalURL, repo: repo, tokenSent: !auth.isEmpty, body: body)
            throw HubError.httpStatus(url: finalURL, status: status, body: "unexpected status for a file download")
        }

        if !FileManager.default.fileExists(atPath: partial.path) {
            _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
        }
        let handle: FileHandle
        do {
            handle = try FileHandle(forWritingTo: partial)
            try handle.seek(toOffset: UInt64(offset))
        } catch {
            throw HubError.fileSystem(path: partial.path, reason: "cannot open for writing: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        for try await chunk in response.body {
            do {
                try options.writePiece(handle, Data(chunk.readableBytesView))
            } catch {
                throw HubError.fileSystem(path: partial.path, reason: "write failed: \(error.localizedDescription)")
            }
            offset += Int64(chunk.readableBytes)
            tracker.update(file, fileBytes: offset)
        }
        do {
            try handle.synchronize()
        } catch {
            throw HubError.fileSystem(path: partial.path, reason: "flush failed: \(error.localizedDescription)")
        }
        if let size = file.size, offset < size {
            throw HubTransientError(url: finalURL, reason: "the connection ended at byte \(offset) of \(size)")
        }
    }

    /// The first byte of `Content-Range: bytes START-END/TOTAL`.
    static func rangeStart(_ header: String?) -> Int64? {
        guard let header, header.hasPrefix("bytes ") else { return nil }
        return header.dropFirst("bytes ".count).split(separator: "-").first.flatMap { Int64($0) }
    }

    /// Empties the partial file (a fresh download starts) and returns its new length, 0.
    static func truncate(_ url: URL) throws -> Int64 {
        do {
            try Data().write(to: url)
        } catch {
            throw HubError.fileSystem(path: url.path, reason: "cannot truncate: \(error.localizedDescription)")
        }
        return 0
    }

    /// The length and lower-case hex SHA-256 of a file, read in 4 MiB pieces.
    static func sha256(of url: URL) throws -> (Int64, String) {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            var hasher = SHA256()
            var length: Int64 = 0
            while let piece = try handle.read(upToCount: 4 << 20), !piece.isEmpty {
                hasher.update(piece)
                length += Int64(piece.count)
            }
            return (length, hasher.finalizeHex())
        } catch {
            throw HubError.fileSystem(path: url.path, reason: "cannot read back: \(error.localizedDescription)")
        }
    }
}
