import Foundation
import SwiftTuneTensor

extension SafetensorsWriter {
    /// Writes a checkpoint directory the way `transformers` `save_pretrained` does: `model.safetensors` when all
    /// tensors fit in one shard, else `model-0000i-of-0000n.safetensors` plus `model.safetensors.index.json`.
    ///
    /// Tensors are packed greedily in the order given (keep a layer's tensors together by passing them in model
    /// order): a shard is closed when the next tensor would push its data past `maxShardBytes`; a tensor larger
    /// than the limit gets a shard of its own. Each file is written atomically and the index last. On success,
    /// checkpoint files of an earlier save that are not part of this one (other shards, a stale index or single
    /// file) are removed so the directory cannot mix two saves; on failure the files this call wrote are removed.
    ///
    /// - Parameters:
    ///   - directory: created if missing.
    ///   - maxShardBytes: the data-size limit per shard (headers not counted), > 0.
    ///   - metadata: each shard's `__metadata__`.
    /// - Returns: the file names written, shards first, then the index if any.
    @discardableResult
    public static func writeSharded(tensors: [(name: String, tensor: Tensor)], to directory: URL, maxShardBytes: Int,
                                    metadata: [String: String]? = defaultMetadata) throws -> [String] {
        guard maxShardBytes > 0 else {
            throw CheckpointError.invalidArgument(operation: "writeSharded", reason: "maxShardBytes must be positive, got \(maxShardBytes)")
        }
        var seen = Set<String>()
        for (name, _) in tensors where !seen.insert(name).inserted {
            throw CheckpointError.duplicateKey(path: directory.path, key: name)
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError.io(path: directory.path, operation: "create directory", reason: error.localizedDescription)
        }

        var shards: [[(name: String, tensor: Tensor)]] = [[]]
        var shardBytes = 0
        for item in tensors {
            if !shards[shards.count - 1].isEmpty, shardBytes + item.tensor.byteCount > maxShardBytes {
                shards.append([])
                shardBytes = 0
            }
            shards[shards.count - 1].append(item)
            shardBytes += item.tensor.byteCount
        }

        let fileNames = shards.count == 1
            ? [ModelWeights.singleFileName]
            : shards.indices.map { shardFileName(index: $0 + 1, count: shards.count) }
        var written: [String] = []
        do {
            for (shard, fileName) in zip(shards, fileNames) {
                try write(tensors: shard, metadata: metadata, to: directory.appendingPathComponent(fileName))
                written.append(fileName)
            }
            if shards.count > 1 {
                var weightMap: [String: String] = [:]
                for (shard, fileName) in zip(shards, fileNames) {
                    for (name, _) in shard { weightMap[name] = fileName }
                }
                let index = ShardIndex(weightMap: weightMap, totalSize: tensors.reduce(0) { $0 + $1.tensor.byteCount })
                try AtomicFile.write(to: directory.appendingPathComponent(ShardIndex.fileName)) { try $0.write(index.encoded()) }
                written.append(ShardIndex.fileName)
            }
        } catch {
            for fileName in written { try? FileManager.default.removeItem(at: directory.appendingPathComponent(fileName)) }
            throw error
        }
        removeStaleFiles(in: directory, keeping: Set(written))
        return written
    }

    /// `model-00002-of-00005.safetensors`, the `transformers` shard name.
    static func shardFileName(index: Int, count: Int) -> String {
        "model-\(fiveDigits(index))-of-\(fiveDigits(count)).safetensors"
    }

    private static func fiveDigits(_ value: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// Removes checkpoint files (single file, index, `model-*-of-*.safetensors` shards) not in `keeping`.
    static func removeStaleFiles(in directory: URL, keeping: Set<String>) {
        guard let contents = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in contents where !keeping.contains(name) && isCheckpointFileName(name) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Whether `name` is one of the file names a save of this kind produces.
    static func isCheckpointFileName(_ name: String) -> Bool {
        if name == ModelWeights.singleFileName || name == ShardIndex.fileName { return true }
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "model", parts[2] == "of", parts[3].hasSuffix(".safetensors") else { return false }
        let total = parts[3].dropLast(".safetensors".count)
        return [parts[1], total].allSatisfy { $0.count == 5 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }
}

extension SafetensorsWriter {
    /// Writes a checkpoint directory as `writeSharded(tensors:…)` does, with each tensor's bytes produced on demand
    /// by `data` (one tensor in memory at a time): shards are packed greedily in the order of `entries`, each file is
    /// written atomically, the index last; on failure the files this call wrote are removed.
    ///
    /// - Returns: the file names written, shards first, then the index if any.
    @discardableResult
    public static func writeSharded(entries: [SafetensorsEntry], to directory: URL, maxShardBytes: Int,
                                    metadata: [String: String]? = defaultMetadata,
                                    data: (SafetensorsEntry) throws -> [UInt8]) throws -> [String] {
        let plan = try shardPlan(entries: entries, directory: directory, maxShardBytes: maxShardBytes)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError.io(path: directory.path, operation: "create directory", reason: error.localizedDescription)
        }
        var written: [String] = []
        do {
            for (shard, fileName) in plan {
                try write(entries: shard, metadata: metadata, to: directory.appendingPathComponent(fileName), data: data)
                written.append(fileName)
            }
            if plan.count > 1 {
                var weightMap: [String: String] = [:]
                for (shard, fileName) in plan {
                    for entry in shard { weightMap[entry.name] = fileName }
                }
                let index = ShardIndex(weightMap: weightMap, totalSize: entries.reduce(0) { $0 + $1.byteCount })
                try AtomicFile.write(to: directory.appendingPathComponent(ShardIndex.fileName)) { try $0.write(index.encoded()) }
                written.append(ShardIndex.fileName)
            }
        } catch {
            for fileName in written { try? FileManager.default.removeItem(at: directory.appendingPathComponent(fileName)) }
            throw error
        }
        removeStaleFiles(in: directory, keeping: Set(written))
        return written
    }

    /// The bytes `writeSharded(entries:…)` writes: every shard file plus the index.
    public static func shardedSize(entries: [SafetensorsEntry], maxShardBytes: Int,
                                   metadata: [String: String]? = defaultMetadata) throws -> Int {
        let plan = try shardPlan(entries: entries, directory: URL(fileURLWithPath: "/"), maxShardBytes: maxShardBytes)
        var total = 0
        for (shard, _) in plan { total += try fileSize(entries: shard, metadata: metadata) }
        if plan.count > 1 { total += 100 * entries.count + 100 }  // the index: a line per tensor
        return total
    }

    /// Greedy shards in the given order and their file names (`model.safetensors` for one shard).
    static func shardPlan(entries: [SafetensorsEntry], directory: URL,
                          maxShardBytes: Int) throws -> [(entries: [SafetensorsEntry], fileName: String)] {
        guard maxShardBytes > 0 else {
            throw CheckpointError.invalidArgument(operation: "writeSharded", reason: "maxShardBytes must be positive, got \(maxShardBytes)")
        }
        var seen = Set<String>()
        for entry in entries where !seen.insert(entry.name).inserted {
            throw CheckpointError.duplicateKey(path: directory.path, key: entry.name)
        }
        var shards: [[SafetensorsEntry]] = [[]]
        var shardBytes = 0
        for entry in entries {
            if !shards[shards.count - 1].isEmpty, shardBytes + entry.byteCount > maxShardBytes {
                shards.append([])
                shardBytes = 0
            }
            shards[shards.count - 1].append(entry)
            shardBytes += entry.byteCount
        }
        let names = shards.count == 1
            ? [ModelWeights.singleFileName]
            : shards.indices.map { shardFileName(index: $0 + 1, count: shards.count) }
        return Array(zip(shards, names)).map { (entries: $0.0, fileName: $0.1) }
    }
}
