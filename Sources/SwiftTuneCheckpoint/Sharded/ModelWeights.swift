import Foundation
import SwiftTuneTensor

/// The weights of a Hugging Face checkpoint directory: one `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json`. Every file is memory-mapped and validated on open, and the index is checked
/// against the shards, so a tensor that later fails to load names its key, its file and the directory.
///
/// ```swift
/// let weights = try ModelWeights(directory: checkpoint)
/// let wq = try weights.tensor("model.layers.0.self_attn.q_proj.weight", on: backend, as: .f32)  // (heads·hd, hidden)
/// ```
public final class ModelWeights: Sendable {
    /// Name of the single-file form.
    public static let singleFileName = "model.safetensors"
    /// Name of the sharded form's index.
    public static let indexFileName = ShardIndex.fileName

    /// Where the files are.
    public let directory: URL
    /// The safetensors file names, in order (one, or the shards sorted by name).
    public let fileNames: [String]
    /// Every tensor name, sorted.
    public let names: [String]
    /// `metadata.total_size` from the index (bytes of tensor data), nil for a single file.
    public let totalSize: Int?

    private let files: [String: SafetensorsFile]
    private let location: [String: String]

    /// Opens `directory`: `model.safetensors` if present, else `model.safetensors.index.json` and its shards.
    public init(directory: URL) throws(CheckpointError) {
        self.directory = directory
        let single = directory.appendingPathComponent(Self.singleFileName)
        let indexURL = directory.appendingPathComponent(Self.indexFileName)
        let manager = FileManager.default
        if manager.fileExists(atPath: single.path) {
            let file = try SafetensorsFile(url: single)
            files = [Self.singleFileName: file]
            fileNames = [Self.singleFileName]
            location = Dictionary(uniqueKeysWithValues: file.names.map { ($0, Self.singleFileName) })
            totalSize = nil
        } else if manager.fileExists(atPath: indexURL.path) {
            let data: Data
            do {
                data = try Data(contentsOf: indexURL)
            } catch {
                throw .io(path: indexURL.path, operation: "read", reason: "\(error.localizedDescription)")
            }
            let index = try ShardIndex(json: data, path: indexURL.path)
            var opened: [String: SafetensorsFile] = [:]
            // Open each shard once; check the index against it so a lie in the index fails here, not mid-load.
            for (name, fileName) in index.weightMap.sorted(by: { $0.key < $1.key }) {
                if opened[fileName] == nil {
                    let url = directory.appendingPathComponent(fileName)
                    guard manager.fileExists(atPath: url.path) else {
                        throw .invalidIndex(path: indexURL.path, key: name,
                                                           reason: "is mapped to \(fileName), which does not exist")
                    }
                    opened[fileName] = try SafetensorsFile(url: url)
                }
                guard opened[fileName]?.contains(name) == true else {
                    throw .invalidIndex(path: indexURL.path, key: name,
                                                       reason: "is mapped to \(fileName), which has no such tensor")
                }
            }
            files = opened
            fileNames = opened.keys.sorted()
            location = index.weightMap
            totalSize = index.totalSize
        } else {
            throw .io(path: directory.path, operation: "open checkpoint",
                                     reason: "found neither \(Self.singleFileName) nor \(Self.indexFileName)")
        }
        names = location.keys.sorted()
    }

    /// Opens one safetensors file of any name (an adapter, a merged export) as a one-file checkpoint.
    public init(file url: URL) throws(CheckpointError) {
        let file = try SafetensorsFile(url: url)
        directory = url.deletingLastPathComponent()
        files = [url.lastPathComponent: file]
        fileNames = [url.lastPathComponent]
        location = Dictionary(uniqueKeysWithValues: file.names.map { ($0, url.lastPathComponent) })
        totalSize = nil
        names = location.keys.sorted()
    }

    /// Whether the checkpoint has a tensor called `name`.
    public func contains(_ name: String) -> Bool { location[name] != nil }

    /// The name of the file that holds tensor `name`; throws `missingTensor` naming the directory and files.
    public func fileName(containing name: String) throws(CheckpointError) -> String {
        guard let fileName = location[name] else {
            throw .missingTensor(key: name, path: directory.path, searched: fileNames)
        }
        return fileName
    }

    /// The opened file that holds tensor `name`.
    public func file(containing name: String) throws(CheckpointError) -> SafetensorsFile {
        let fileName = try fileName(containing: name)
        guard let file = files[fileName] else {
            throw .missingTensor(key: name, path: directory.path, searched: fileNames)
        }
        return file
    }

    /// Dtype, shape and byte range of tensor `name`.
    public func info(_ name: String) throws(CheckpointError) -> SafetensorsTensorInfo {
        try file(containing: name).info(name)
    }

    /// Calls `body` with the raw bytes of tensor `name`; see `SafetensorsFile.withBytes`.
    public func withBytes<Result>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        try file(containing: name).withBytes(name, body)
    }

    /// Uploads tensor `name` to `backend`, converting float dtypes when `dtype` differs; see `SafetensorsFile.tensor`.
    public func tensor(_ name: String, on backend: any Backend, as dtype: DType? = nil) throws -> Tensor {
        try file(containing: name).tensor(name, on: backend, as: dtype)
    }
}
