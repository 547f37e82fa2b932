import Foundation
import SwiftTuneTensor

/// A safetensors file, memory-mapped and validated on open (https://github.com/huggingface/safetensors#format).
///
/// Opening reads and checks only the header; tensor bytes are paged in when `withBytes` or `tensor` touches them.
/// The mapping lives as long as this object. Every malformed file is refused with a `CheckpointError` that names
/// the file and the tensor key.
///
/// ```swift
/// let file = try SafetensorsFile(url: url)
/// let embedding = try file.tensor("model.embed_tokens.weight", on: backend, as: .f32)  // (vocab, hidden)
/// ```
public final class SafetensorsFile: Sendable {
    /// The file that was opened.
    public let url: URL
    /// Tensor names in file order (by data offset).
    public let names: [String]
    /// The header's `__metadata__` map, nil when the header has none.
    public let metadata: [String: String]?
    /// Every tensor's location, in file order.
    public let infos: [SafetensorsTensorInfo]

    private let mapping: MappedFile
    private let index: [String: Int]

    /// Maps and validates the file at `url`.
    public convenience init(url: URL) throws(CheckpointError) {
        try self.init(mapping: try MappedFile(path: url.path), url: url)
    }

    /// Validates a copy of `bytes` as the file at `url` (nothing is read from disk).
    public convenience init(contents bytes: UnsafeRawBufferPointer, url: URL) throws(CheckpointError) {
        try self.init(mapping: MappedFile(copying: bytes, path: url.path), url: url)
    }

    private init(mapping: MappedFile, url: URL) throws(CheckpointError) {
        self.url = url
        self.mapping = mapping
        let header = try SafetensorsHeader(file: mapping.bytes, path: url.path)
        infos = header.tensors
        names = header.tensors.map(\.name)
        metadata = header.metadata
        index = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($1.name, $0) })
    }

    /// The file's path, for messages.
    public var path: String { url.path }

    /// Whether the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// Where tensor `name` lives: dtype, shape and byte range. Throws `missingTensor` if absent.
    public func info(_ name: String) throws(CheckpointError) -> SafetensorsTensorInfo {
        guard let position = index[name] else {
            throw .missingTensor(key: name, path: path, searched: [url.lastPathComponent])
        }
        return infos[position]
    }

    /// Calls `body` with the raw little-endian, row-major bytes of tensor `name`, straight from the mapping.
    /// The buffer is valid only inside `body`; it may be unaligned for the element type.
    public func withBytes<Result>(_ name: String,
                                  _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        let range = try info(name).fileRange
        return try body(UnsafeRawBufferPointer(rebasing: mapping.bytes[range]))
    }

    /// Uploads tensor `name` to `backend`.
    ///
    /// - Parameter dtype: the dtype wanted on the device; nil keeps the file's. A different float dtype is
    ///   converted with `backend.cast` (bf16/f16 → f32 is exact); integer tensors cannot be converted.
    /// - Returns: a tensor of the file's shape. F32, F64, F16, BF16, I32, I64 and U8 load; other dtypes throw
    ///   `unsupportedDType` (use `withBytes` for those).
    public func tensor(_ name: String, on backend: any Backend, as dtype: DType? = nil) throws -> Tensor {
        let info = try info(name)
        guard let stored = info.dtype.tensorDType else {
            throw CheckpointError.unsupportedDType(path: path, key: name, dtype: info.dtype.rawValue)
        }
        let wanted = dtype ?? stored
        if wanted != stored, !(wanted.isFloatingPoint && stored.isFloatingPoint) {
            throw CheckpointError.unsupportedConversion(path: path, key: name, from: stored.rawValue, to: wanted.rawValue)
        }
        let loaded = try withBytes(name) { try backend.tensor(bytes: $0, shape: info.shape, dtype: stored) }
        return wanted == stored ? loaded : try backend.converted(loaded, to: wanted)
    }
}
