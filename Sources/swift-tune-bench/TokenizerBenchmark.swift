import Foundation
import SwiftTuneTokenizers

/// Tokenizer encode throughput, one string at a time on one thread, next to HF tokenizers
/// (`scripts/bench/tokenizer_bench.py` encodes the same strings the same way).
///
/// Strings per file: `.json` — an alpaca array, one string per row (instruction, input and output joined by
/// "\n", empty fields left out); `.jsonl` — one JSON string (or object with "text") per line; anything else — one
/// string per non-empty line. Files under 10 MB are encoded 3 times: the first pass starts with an empty word
/// cache, the best pass is reported next to it. Prints a Markdown table row per file.
func runTokenizerBenchmark(tokenizerDirectory: URL, files: [URL]) throws {
    let loadStart = DispatchTime.now().uptimeNanoseconds
    let tokenizer = try Tokenizer(contentsOf: tokenizerDirectory)
    let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
    print("tokenizer \(tokenizerDirectory.path): vocabulary \(tokenizer.vocabularySize), loaded in "
          + String(format: "%.2f s", loadSeconds))
    print("| file | strings | MB | tokens | first pass s | tokens/s (first) | best s | tokens/s (best) | MB/s (best) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for file in files {
        let texts = try benchmarkStrings(file)
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        let passes = bytes < 10_000_000 ? 3 : 1
        var times: [Double] = []
        var tokens = 0
        for _ in 0..<passes {
            var count = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for text in texts { count += tokenizer.encode(text, addSpecialTokens: false).count }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            tokens = count
        }
        let megabytes = Double(bytes) / 1e6
        let first = times[0]
        let best = times.min() ?? first
        print("| \(file.lastPathComponent) | \(texts.count) | \(String(format: "%.2f", megabytes)) | \(tokens) | "
              + String(format: "%.3f | %.0f | %.3f | %.0f | %.2f |", first, Double(tokens) / first, best,
                       Double(tokens) / best, megabytes / best))
    }
}

/// The strings of one benchmark file (see `runTokenizerBenchmark`).
func benchmarkStrings(_ file: URL) throws -> [String] {
    let data = try Data(contentsOf: file)
    switch file.pathExtension {
    case "json":
        guard let rows = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: file.path])
        }
        return rows.map { row in
            ["instruction", "input", "output"].compactMap { row[$0] as? String }.filter { !$0.isEmpty }
                .joined(separator: "\n")
        }
    case "jsonl":
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            let value = try? JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])
            return value as? String ?? (value as? [String: Any])?["text"] as? String
        }
    default:
        return data.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
    }
}
