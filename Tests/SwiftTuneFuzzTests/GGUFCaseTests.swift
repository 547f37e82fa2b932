import SwiftTuneFuzzTargets
import Testing

/// The hand-written GGUF files of the CVE patterns (`GGUFCases`): each refused, with the error naming the field.
@Suite struct GGUFCaseTests {
    @Test(arguments: GGUFCases.all.map(\.name))
    func refusedWithTheNamedError(_ name: String) throws {
        let cases = GGUFCases.all.filter { $0.name == name }
        let found = try #require(cases.first)
        let outcome = FuzzTarget.gguf.run(found.bytes)
        guard case let .refused(message) = outcome else {
            Issue.record("\(name): expected a refusal mentioning \"\(found.expected)\", got \(outcome)")
            return
        }
        #expect(message.contains(found.expected), "\(name): \(message)")
        #expect(message.contains("/fuzz/input.gguf"), "\(name): the error names the file: \(message)")
    }
}

/// The reader's caps, each hit by a file that is otherwise consistent (the bytes are there), so only the cap refuses
/// it; the error names the field, the value and the limit.
@Suite struct GGUFLimitTests {
    func refusal(_ bytes: [UInt8]) -> String {
        guard case let .refused(message) = FuzzTarget.gguf.run(bytes) else { return "not refused" }
        return message
    }

    @Test func arrayLength() {
        let count = (1 << 24) + 1
        var file = GGUFBytes(tensorCount: 0, metadataCount: 1)
        file.metadataArray("tokenizer.ggml.token_type", elementType: 0, count: UInt64(count))
        file.append(zeros: count)
        let message = refusal(file.bytes)
        #expect(message.contains("tokenizer.ggml.token_type (array length): \(count) array elements"), "\(message)")
        #expect(message.contains("limit of \(1 << 24)"), "\(message)")
    }

    @Test func stringLength() {
        let length = (1 << 24) + 1
        var file = GGUFBytes(tensorCount: 0, metadataCount: 1)
        file.metadataString("tokenizer.chat_template", String(repeating: "a", count: length))
        let message = refusal(file.bytes)
        #expect(message.contains("tokenizer.chat_template: \(length) bytes of string"), "\(message)")
        #expect(message.contains("limit of \(1 << 24)"), "\(message)")
    }

    @Test func tensorCount() {
        let count = (1 << 20) + 1
        var file = GGUFBytes(tensorCount: UInt64(count), metadataCount: 0)
        file.append(zeros: count * 24)
        let message = refusal(file.bytes)
        #expect(message.contains("tensor_count: \(count) tensors is more than the reader's limit of \(1 << 20)"), "\(message)")
    }

    @Test func metadataElementsInAll() {
        // Three arrays of 12M u8 each: every one under the per-array cap, together over the 32M total.
        let count = 12 << 20
        var file = GGUFBytes(tensorCount: 0, metadataCount: 3)
        for index in 0..<3 {
            file.metadataArray("a\(index)", elementType: 0, count: UInt64(count))
            file.append(zeros: count)
        }
        let message = refusal(file.bytes)
        #expect(message.contains("a2 (array length)") || message.contains("a2:"), "\(message)")
        #expect(message.contains("limit of \(1 << 25)"), "\(message)")
    }
}
