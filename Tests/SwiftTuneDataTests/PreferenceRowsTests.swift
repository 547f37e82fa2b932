import Foundation
import SwiftTuneChat
@testable import SwiftTuneData
import SwiftTuneTestSupport
import Testing

/// Bad preference rows (`rlhf`): each is skipped with file:line, the key, expected vs got and a hint, or stops the
/// load under `--strict`.
@Suite struct PreferenceRowsTests {
    static func load(_ name: String, kind: PreferenceRowKind, strict: Bool = false) throws -> ([DatasetRow], DatasetLoadReport) {
        var options = DatasetOptions()
        options.preferenceRows = kind
        options.strict = strict
        var report = DatasetLoadReport()
        let rows = try DatasetPipeline.readRows(try fixture(name), options: options, report: &report)
        return (rows, report)
    }

    /// Every skipped row of `report` by line: "file:line: key 'k': problem: detail".
    static func messages(_ report: DatasetLoadReport) -> [String] { report.examples.values.flatMap { $0 } }

    @Test func badPairsAreSkippedWithLineKeyExpectedGotAndHint() throws {
        let (rows, report) = try Self.load("preference_rows.jsonl", kind: .pair)
        for message in Self.messages(report) { print(message) }
        #expect(rows.count == 3, "lines 1, 8 and 9 are good pairs")
        #expect(report.rowsRead == 11)
        let expected: [(line: Int, key: String, problem: RowProblem)] = [
            (2, "rejected_response", .noRejected), (3, "rejected_response", .emptyAnswer),
            (4, "rejected_response", .sameAnswers), (5, "messages[1].content", .emptyAnswer),
            (6, "rejected_messages", .invalidMessages), (7, "rejected_response", .sameAnswers),
            (10, "rejected_response", .wrongType), (11, "rejected_messages", .invalidMessages),
        ]
        let all = Self.messages(report)
        for (line, key, problem) in expected {
            let message = all.first { $0.hasPrefix(dataFixtures.appendingPathComponent("preference_rows.jsonl").path + ":\(line):") }
            #expect(message != nil, "line \(line) is not reported: \(all)")
            guard let message else { continue }
            #expect(message.contains("key '\(key)'") && message.contains(problem.rawValue), "line \(line): \(message)")
            #expect(message.contains("xpected") && message.contains("got") && message.contains("Hint"), "line \(line): \(message)")
        }
        #expect(report.skippedCount == expected.count)
    }

    @Test func strictStopsAtTheFirstBadPair() throws {
        #expect {
            try Self.load("preference_rows.jsonl", kind: .pair, strict: true)
        } throws: { error in
            "\(error)".contains("preference_rows.jsonl:2:") && "\(error)".contains("rejected_response")
        }
    }

    @Test func ktoRowsNeedABooleanLabel() throws {
        let (rows, report) = try Self.load("kto_rows.jsonl", kind: .label)
        for message in Self.messages(report) { print(message) }
        #expect(rows.map(\.label) == [true, false])
        let all = Self.messages(report)
        #expect(all.contains { $0.contains("kto_rows.jsonl:3:") && $0.contains("key 'label'") && $0.contains("Hint") }, "\(all)")
        #expect(all.contains { $0.contains("kto_rows.jsonl:4:") && $0.contains("key 'label'") && $0.contains("wrong type") }, "\(all)")
    }

    @Test func sharedDemoFormatsAreReadAsPairs() throws {
        // The same three row shapes the LLaMA-Factory demo, ms-swift and TRL datasets use (lines 1, 8, 9).
        let (rows, _) = try Self.load("preference_rows.jsonl", kind: .pair)
        #expect(rows.map { $0.rejectedConversation?.messages.last?.content } == ["Go away.", "5", "Loud"])
        #expect(rows.map { $0.conversation.messages.last?.content } == ["Hello!", "4", "Blue"])
    }

    @Test func truncationKeepsTheAnswerAndTheSplit() throws {
        let ignore = EncodedSample.ignoreIndex
        let sample = EncodedSample(inputIDs: [1, 2, 3, 4, 5, 6, 7, 8], labels: [ignore, ignore, ignore, ignore, ignore, 6, 7, 8])
        let cut = PreferenceTruncation.cutPrompt(sample, to: 5)
        #expect(cut.inputIDs == [4, 5, 6, 7, 8] && cut.labels == [ignore, ignore, 6, 7, 8], "the prompt loses its start")
        let tight = PreferenceTruncation.cutPrompt(sample, to: 2)
        #expect(tight.inputIDs == [6, 7] && tight.labels == [ignore, 7], "an answer longer than max_length loses its end")
        let short = PreferenceTruncation.cutAnswer(sample, to: 2)
        #expect(short.inputIDs == [1, 2, 3, 4, 5, 6, 7] && short.labels.suffix(2) == [6, 7])
    }

    @Test func aPairWhoseAnswerIsTruncatedAwayIsReportedWithItsLine() throws {
        let short = DatasetRow(conversation: Conversation(messages: [.user("x"), .assistant("yes")]), rejectedResponse: "no")
        let long = DatasetRow(conversation: Conversation(messages: [.user(String(repeating: "long prompt ", count: 20)),
                                                                    .assistant("yes")]), rejectedResponse: "no")
        let encoder = TemplateEncoder(template: try TemplateRegistry.template(named: "chatml"), tokenizer: TestTokenizer(),
                                      options: TemplateOptions())
        var options = DatasetOptions()
        options.preferenceRows = .pair
        options.maxLength = try encoder.encode(short).length
        options.truncationStrategy = .right
        var report = DatasetLoadReport()
        let rows: [DatasetPipeline.LocatedRow] = [(short, RowLocation(file: "pairs.jsonl", line: 1)),
                                                  (long, RowLocation(file: "pairs.jsonl", line: 2))]
        let encoded = try DatasetPipeline.encode(rows, name: "pairs.jsonl", encoder: encoder, options: options, report: &report)
        #expect(encoded.rows.count == 1 && encoded.locations == [RowLocation(file: "pairs.jsonl", line: 1)])
        let message = Self.messages(report).first ?? ""
        #expect(message.hasPrefix("pairs.jsonl:2: key 'messages'") && message.contains("got none") && message.contains("Hint"),
                "\(message)")
        // truncation_strategy left cuts the prompt instead: both rows keep their answers.
        options.truncationStrategy = .left
        var kept = DatasetLoadReport()
        let left = try DatasetPipeline.encode(rows, name: "pairs.jsonl", encoder: encoder, options: options, report: &kept)
        #expect(left.rows.count == 2 && kept.skippedCount == 0)
        #expect(left.rows[1].chosen.labels.suffix(4) == left.rows[0].chosen.labels.suffix(4), "the answer stays whole")
    }
}
