import Foundation
import SwiftTuneChat
@testable import SwiftTuneData
import SwiftTuneJSON
import SwiftTuneTestSupport
import Testing

/// Rows longer than `--max_length` (issue 18): each strategy, and what the report's summary line says.
@Suite struct OverLengthRowTests {
    let tok = TestTokenizer()

    func load(_ strategy: TruncationStrategy, maxLength: Int = 40, chatTemplate: Bool = true) throws -> DatasetLoadResult {
        var options = DatasetOptions()
        options.maxLength = maxLength
        options.truncationStrategy = strategy
        options.datasetShuffle = false
        options.template = TemplateOptions(useChatTemplate: chatTemplate, lossScale: chatTemplate ? .default : .all)
        return try DatasetPipeline.load([try fixture("folder")], options: options, tokenizer: tok, template: .qwen2_5)
    }

    @Test func theSummaryLineCountsDeletedAndTruncatedRows() throws {
        let left = try load(.left)
        #expect(left.report.truncatedRows == 3)
        #expect(left.report.description.hasPrefix("rows read: 3, train: 3, validation: 0, skipped: 0, truncated: 3 to max_length 40 (left)"),
                "\(left.report)")
        var report = DatasetLoadReport()
        (report.rowsRead, report.trainRows, report.maxLength) = (3, 1, 128)
        report.skipped[.tooLong] = 2
        #expect(report.description.hasPrefix("rows read: 3, train: 1, validation: 0, skipped: 2 (2 of them longer than max_length 128, deleted)"),
                "\(report)")
    }

    @Test func splitCutsAPreTrainingRowIntoPiecesAndIsRefusedWithAChatTemplate() throws {
        let whole = try load(.delete, maxLength: 10_000, chatTemplate: false)
        let lengths = whole.train.rows.map(\.chosen.count)
        let m = max(1, (lengths.min() ?? 2) - 1)
        let split = try load(.split, maxLength: m, chatTemplate: false)
        #expect(split.train.rows.count == lengths.reduce(0) { $0 + ($1 + m - 1) / m })
        #expect(split.train.rows.allSatisfy { $0.chosen.count <= m && $0.chosen.labels[0] == EncodedSample.ignoreIndex })
        #expect(split.train.rows.flatMap(\.chosen.inputIDs) == whole.train.rows.flatMap(\.chosen.inputIDs))
        #expect(split.report.description.contains("split: 3 over max_length \(m) into \(split.train.rows.count) rows"), "\(split.report)")
        #expect(throws: DataError.self) { try load(.split) }
        do { _ = try load(.split) } catch { #expect("\(error)".contains("split is for pt"), "\(error)") }
    }

    @Test func aRowOfSystemMessagesSaysWhyNotUnknownRole() throws {
        let messages = JSONValue.array(Array(repeating: ["role": "system", "content": "be brief"], count: 1000))
        let preprocessor = RowPreprocessor()
        do {
            _ = try preprocessor.convert([JSONMember(key: "messages", value: messages)], at: RowLocation(file: "rows.jsonl", line: 7))
            Issue.record("expected a bad row")
        } catch {
            let text = "\(error)"
            #expect(text.contains("rows.jsonl:7") && text.contains("messages[1].role"), "\(text)")
            #expect(text.contains("1000 system messages among 1000 and no user turn"), "\(text)")
            #expect(!text.contains("unknown role"), "\(text)")
        }
    }
}
