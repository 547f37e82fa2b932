import Foundation
import SwiftTuneJSON
import SwiftTuneTensor

/// Writes safetensors files byte-for-byte as the reference writer does (https://github.com/huggingface/safetensors).
///
/// Layout: tensors sorted by descending dtype alignment (the order of `SafetensorsDType.allCases`, reversed), then
/// by name (byte-wise); the header JSON is compact, `__metadata__` first, and padded with spaces to a multiple of
/// 8 bytes so the data buffer starts 8-aligned. Tensor bytes are read with `Backend.bytes`, one tensor at a time,
/// so tensors may live on any backend. Every file is written atomically (temporary file, fsync, rename).
public enum SafetensorsWriter {
    /// The metadata Hugging Face tools write and `transformers` requires when loading (`{"format": "pt"}`).
    public static let defaultMetadata: [String: String] = ["format": "pt"]

    /// Writes `tensors` to `url` atomically; on error no file with the final name appears (an old one stays).
    ///
    /// - Parameters:
    ///   - tensors: names and tensors; names must be unique and not `__metadata__`. The order given does not matter.
    ///   - metadata: the header's `__metadata__` map (keys sorted on write); nil writes none.
    public static func write(tensors: [(name: String, tensor: Tensor)],
                             metadata: [String: String]? = defaultMetadata, to url: URL) throws {
        let byName = Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        let entries = tensors.map { SafetensorsEntry(name: $0.name, dtype: $0.tensor.dtype, shape: $0.tensor.shape) }
        try write(entries: entries, metadata: metadata, to: url) { entry in
            guard let tensor = byName[entry.name] else { return [] }
            let bytes = try tensor.backend.bytes(tensor)
            guard bytes.count == entry.byteCount else {
                throw CheckpointError.invalidArgument(
                    operation: "SafetensorsWriter.write",
                    reason: "\(tensor.backend.name) returned \(bytes.count) bytes for \"\(entry.name)\", expected \(entry.byteCount)")
            }
            return bytes
        }
    }

    /// Writes a named collection of tensors; see `write(tensors:metadata:to:)`.
    public static func write(tensors: [String: Tensor], metadata: [String: String]? = defaultMetadata, to url: URL) throws {
        try write(tensors: tensors.map { (name: $0.key, tensor: $0.value) }, metadata: metadata, to: url)
    }
}

/// A tensor to be written, before its bytes exist: name, dtype and row-major shape.
public struct SafetensorsEntry: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]

    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    /// Bytes of data: elements × dtype size.
    public var byteCount: Int { shape.reduce(1, *) * dtype.byteSize }
}

extension SafetensorsWriter {
    /// Writes one file whose tensors are produced one at a time by `data`, in the file's order (descending dtype
    /// alignment, then name), so only one tensor is in memory; atomically, as `write(tensors:metadata:to:)`.
    /// `data(entry)` must return exactly `entry.byteCount` little-endian bytes.
    public static func write(entries: [SafetensorsEntry], metadata: [String: String]? = defaultMetadata, to url: URL,
                             data: (SafetensorsEntry) throws -> [UInt8]) throws {
        let layout = try SafetensorsLayout(entries: entries, metadata: metadata, path: url.path)
        try AtomicFile.write(to: url) { sink in
            try sink.write(layout.prefix)
            for entry in layout.entries {
                let bytes = try data(entry)
                guard bytes.count == entry.byteCount else {
                    throw CheckpointError.invalidArgument(
                        operation: "SafetensorsWriter.write(\(url.lastPathComponent))",
                        reason: "got \(bytes.count) bytes for \"\(entry.name)\" (\(entry.dtype.rawValue) \(entry.shape)), expected \(entry.byteCount)")
                }
                try sink.write(bytes)
            }
        }
    }

    /// The size of the file `write(entries:…)` produces.
    public static func fileSize(entries: [SafetensorsEntry], metadata: [String: String]? = defaultMetadata) throws -> Int {
        try SafetensorsLayout(entries: entries, metadata: metadata, path: "(size)").fileSize
    }
}

/// The file layout of a set of tensors: their order, offsets and the encoded header.
struct SafetensorsLayout {
    /// Tensors in write order.
    let entries: [SafetensorsEntry]
    /// The 8-byte length followed by the padded header JSON.
    let prefix: [UInt8]
    /// Total size of the data buffer.
    let dataSize: Int

    init(entries unordered: [SafetensorsEntry], metadata: [String: String]?, path: String) throws {
        var seen = Set<String>()
        for entry in unordered {
            guard entry.name != SafetensorsHeader.metadataKey else {
                throw CheckpointError.invalidArgument(operation: "writing \(path)",
                                                      reason: "a tensor cannot be named \(SafetensorsHeader.metadataKey)")
            }
            guard seen.insert(entry.name).inserted else { throw CheckpointError.duplicateKey(path: path, key: entry.name) }
        }
        entries = unordered.sorted { left, right in
            let (l, r) = (SafetensorsDType(left.dtype), SafetensorsDType(right.dtype))
            if l != r { return l.alignmentRank > r.alignmentRank }
            return Array(left.name.utf8).lexicographicallyPrecedes(Array(right.name.utf8))
        }

        var json = "{"
        var first = true
        if let metadata {
            let members = metadata.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                .map { JSONText.quoted($0) + ":" + JSONText.quoted(metadata[$0] ?? "") }
            json += JSONText.quoted(SafetensorsHeader.metadataKey) + ":{" + members.joined(separator: ",") + "}"
            first = false
        }
        var offset = 0
        for entry in entries {
            if !first { json += "," }
            first = false
            let shape = entry.shape.map(String.init).joined(separator: ",")
            json += JSONText.quoted(entry.name) + ":{\"dtype\":\"\(SafetensorsDType(entry.dtype).rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(offset + entry.byteCount)]}"
            offset += entry.byteCount
        }
        json += "}"
        var header = Array(json.utf8)
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        guard header.count <= SafetensorsHeader.maxHeaderLength else {
            throw CheckpointError.invalidArgument(
                operation: "writing \(path)",
                reason: "the header would be \(header.count) bytes, over the \(SafetensorsHeader.maxHeaderLength)-byte limit readers enforce; shard the tensors")
        }
        let length = UInt64(header.count)
        prefix = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + header
        dataSize = offset
    }

    /// Size of the whole file.
    var fileSize: Int { prefix.count + dataSize }
}
