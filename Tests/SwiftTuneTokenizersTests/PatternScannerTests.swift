import Foundation
@testable import SwiftTuneTokenizers
import Testing

/// The hand-written scanners split exactly as NSRegularExpression does with the same regex (fast vs slow).
@Suite struct PatternScannerTests {
    static let patterns = [
        ("llama3", PatternScanner.llama3Pattern), ("qwen2", PatternScanner.qwen2Pattern),
        ("qwen3.5", PatternScanner.qwen35Pattern), ("gpt2", PatternScanner.gpt2Pattern),
    ]

    static func spans(_ scanner: PatternScanner, _ text: String) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            var out: [String] = []
            scanner.forEachSpan(bytes, 0..<bytes.count) { start, end, _ in
                out.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
            }
            return out
        }
    }

    @Test(arguments: patterns.map(\.0))
    func scannerMatchesRegex(name: String) throws {
        let pattern = try #require(Self.patterns.first { $0.0 == name }?.1)
        let fast = try #require(PatternScanner.forRegex(pattern))
        let slow = PatternScanner.regex(.init(expression: try NSRegularExpression(pattern: pattern)))
        if case .regex = fast { Issue.record("\(name): the known pattern was not recognised") }
        var extra = ["'S'Ll'rE 'ſ 'ſx don'T", "a\u{0301}\u{0301}b \u{0301}", "  \n\r\n \t x", "١٢٣٤ ½⅓ 12345678",
                     "\u{3000}\u{00A0}a \u{2028}b", "x\u{200D}y 👋🏻\u{200D}👋"]
        extra += Fixtures.corpus
        var mismatches = 0
        for text in extra {
            let a = Self.spans(fast, text)
            let b = Self.spans(slow, text)
            if a != b {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record("\(name) \"\(escaped(text))\": \(a.map { escaped($0) }) vs NSRegularExpression \(b.map { escaped($0) })")
                }
            }
        }
        #expect(mismatches == 0)
    }
}
