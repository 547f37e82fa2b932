import Foundation

/// Free space on a file system: what exports and downloads check before they write.
public enum FileSystemSpace {
    /// Free bytes on the file system of `url`, or of its nearest existing parent folder when `url` does not exist
    /// yet (nil when unknown).
    public static func availableBytes(_ url: URL) -> Int64? {
        var probe = url
        while !FileManager.default.fileExists(atPath: probe.path), probe.pathComponents.count > 1 {
            probe = probe.deletingLastPathComponent()
        }
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: probe.path)
        return (attributes?[.systemFreeSize] as? NSNumber)?.int64Value
    }
}
