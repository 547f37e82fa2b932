#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory; unmapped when the object goes away.
///
/// Pages are loaded lazily by the kernel, so opening a multi-gigabyte checkpoint costs only the header.
/// The mapping is private and read-only; truncating the file while it is mapped makes reads fault (SIGBUS),
/// as with any mmap reader. `init(copying:path:)` holds bytes already in memory instead (the fuzz targets, where
/// the address sanitizer then sees any read past the end exactly).
final class MappedFile: @unchecked Sendable {
    // Sendable: the mapping is immutable (PROT_READ) for the object's lifetime.
    let path: String
    private let base: UnsafeRawPointer?
    let count: Int
    /// Whether `base` is a heap copy (freed) rather than a mapping (unmapped).
    private let isCopy: Bool

    init(path: String) throws(CheckpointError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: path, operation: "open", reason: Self.lastError()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .io(path: path, operation: "stat", reason: Self.lastError()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .io(path: path, operation: "open", reason: "not a regular file")
        }
        self.path = path
        isCopy = false
        count = Int(status.st_size)
        if count == 0 {
            base = nil  // mmap rejects length 0; an empty file has no bytes to map.
            return
        }
        guard let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw .io(path: path, operation: "mmap", reason: Self.lastError())
        }
        base = UnsafeRawPointer(address)
    }

    /// A copy of `bytes` (exactly `bytes.count` long) read as the file at `path`.
    init(copying bytes: UnsafeRawBufferPointer, path: String) {
        self.path = path
        isCopy = true
        count = bytes.count
        guard let source = bytes.baseAddress, !bytes.isEmpty else {
            base = nil
            return
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
        copy.copyMemory(from: source, byteCount: bytes.count)
        base = UnsafeRawPointer(copy)
    }

    deinit {
        guard let base else { return }
        if isCopy { UnsafeMutableRawPointer(mutating: base).deallocate() } else { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// The file's bytes; valid while this object is alive.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// `strerror(errno)` for messages.
    static func lastError() -> String { String(cString: strerror(errno)) }
}
