import Foundation
import SwiftTuneChat
@testable import SwiftTuneData
import SwiftTuneTestSupport
import Testing

func fixture(_ name: String) throws -> DatasetSpec { try DatasetSpec.parse(dataFixtures.appendingPathComponent(name).path) }

@Suite struct PipelineTests {
    let tok = TestTokenizer()

    @Test func badRowsAreSkippedAndCounted() throws {
        var report = DatasetLoadReport()
        let rows = try DatasetPipeline.readRows(try fixture("bad_rows.jsonl"), options: DatasetOptions(), report: &report)
        #expect(rows.count == 2)
        #expect(report.rowsRead == 7)
        #expect(report.skipped == [.malformedJSON: 1, .noUsableFields: 1, .wrongType: 1, .emptyAnswer: 1, .invalidUTF8: 1])
        #expect(report.examples[.malformedJSON]?.first?.contains("bad_rows.jsonl:2") == true)
        #expect(report.examples[.invalidUTF8]?.first?.contains("bad_rows.jsonl:6") == true)
        #expect(report.description.contains("wrong type: 1"))
        var strict = DatasetOptions()
        strict.strict = true
        #expect(throws: DataError.self) { try DatasetPipeline.readRows(try fixture("bad_rows.jsonl"), options: strict, report: &report) }
    }

    @Test func fiftyMegabyteLineIsSkippedWithoutHoldingIt() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        var data = Data(#"{"query": "q", "response": "a"}"#.utf8 + [0x0A])
        data.append(Data(#"{"query": ""#.utf8))
        data.append(Data(repeating: UInt8(ascii: "x"), count: 50 << 20))
        data.append(Data(#"", "response": "a"}"#.utf8 + [0x0A]))
        data.append(Data(#"{"query": "q2", "response": "a2"}"#.utf8))
        try data.write(to: url)
        var report = DatasetLoadReport()
        let rows = try DatasetPipeline.readRows(try DatasetSpec.parse(url.path), options: DatasetOptions(), report: &report)
        #expect(rows.count == 2)
        #expect(report.skipped == [.lineTooLong: 1])
        #expect(report.examples[.lineTooLong]?.first?.contains(":2") == true)
    }

    @Test func csvAndFolders() throws {
        var report = DatasetLoadReport()
        let csv = try DatasetPipeline.readRows(try fixture("quoted.csv"), options: DatasetOptions(), report: &report)
        #expect(csv.map(\.conversation.messages) == [[.user("Say \"hi\""), .assistant("hi")],
                                                    [.user("Two\nlines\na, b"), .assistant("x\ny")],
                                                    [.user("plain"), .assistant("answer")]])
        let folder = try DatasetPipeline.readRows(try fixture("folder"), options: DatasetOptions(), report: &report)
        #expect(folder.map { $0.conversation.messages[0].content } == ["a", "b", "c"])
    }

    @Test func selfCognitionWithNames() throws {
        var options = DatasetOptions()
        options.modelName = ["小黄", "Xiao Huang"]
        options.modelAuthor = ["魔搭"]
        var report = DatasetLoadReport()
        let rows = try DatasetPipeline.readRows(try DatasetSpec.parse("swift/self-cognition#10"), options: options, report: &report)
        #expect(rows.count == 200)
        let texts = rows.map { $0.conversation.messages[1].content }
        #expect(texts.filter { $0.contains("小黄") }.count == 100)
        #expect(texts.filter { $0.contains("Xiao Huang") }.count == 100)
        #expect(texts.allSatisfy { !$0.contains("{{") })
        #expect(texts.filter { $0.contains("魔搭") }.count == 200)
        let loaded = try DatasetPipeline.load([try DatasetSpec.parse("self-cognition#10")], options: options, tokenizer: tok, template: .qwen2_5)
        #expect(loaded.train.rows.count == 10)
        let raw = SelfCognition.rows(name: nil, author: nil)
        #expect(raw.allSatisfy { $0.row.conversation.messages[1].content.contains("{{NAME}}") || $0.row.conversation.messages[1].content.contains("{{AUTHOR}}") })
    }

    @Test func maxLengthDeleteReportsWhyEverythingWasDropped() throws {
        var options = DatasetOptions()
        options.maxLength = 8
        do {
            _ = try DatasetPipeline.load([try fixture("folder")], options: options, tokenizer: tok, template: .qwen2_5)
            Issue.record("expected emptyDataset")
        } catch {
            #expect("\(error)".contains("all 3 rows were dropped: 3 longer than max_length 8 (truncation_strategy delete)"))
        }
    }

    @Test func truncationAndPacking() throws {
        var options = DatasetOptions()
        options.maxLength = 40
        options.truncationStrategy = .left
        options.datasetShuffle = false
        let left = try DatasetPipeline.load([try fixture("folder")], options: options, tokenizer: tok, template: .qwen2_5)
        #expect(left.train.rows.allSatisfy { $0.chosen.count == 40 && $0.chosen.labels[0] == -100 })
        let sample = EncodedSample(inputIDs: [1, 2, 3, 4], labels: [-100, 2, 3, 4])
        #expect(DatasetPipeline.truncate(sample, to: 2, keepEnd: false) == EncodedSample(inputIDs: [1, 2], labels: [-100, 2]))
        #expect(DatasetPipeline.truncate(sample, to: 2, keepEnd: true) == EncodedSample(inputIDs: [3, 4], labels: [-100, 4]))

        #expect(Packing.bins(lengths: [5, 3, 4, 2, 6], capacity: 8) == [[4, 3], [0, 1], [2]])
        options.maxLength = 200
        options.truncationStrategy = .delete
        options.packing = true
        options.template = TemplateOptions(system: "s")
        let packed = try DatasetPipeline.load([try fixture("folder")], options: options, tokenizer: tok, template: .chatml)
        let packs = try #require(packed.train.packed)
        #expect(packs.count == 1 && packs[0].sequenceLengths.count == 3)
        #expect(packs[0].inputIDs.count <= 200 && packs[0].positionIDs.filter { $0 == 0 }.count == 3)
        #expect(Set(packs[0].samples) == Set(packed.train.rows.map(\.chosen)))
        options.maxLength = nil
        #expect(throws: DataError.self) { try DatasetPipeline.load([try fixture("folder")], options: options, tokenizer: tok, template: .chatml) }
    }

    @Test func splitValidationAndShuffleAreSeeded() throws {
        var options = DatasetOptions()
        options.splitDatasetRatio = 0.34
        let a = try DatasetPipeline.load([try DatasetSpec.parse("self-cognition#30")], options: options, tokenizer: tok, template: .qwen2_5)
        let b = try DatasetPipeline.load([try DatasetSpec.parse("self-cognition#30")], options: options, tokenizer: tok, template: .qwen2_5)
        #expect(a.train.rows.count == 20 && a.validation?.rows.count == 10)
        #expect(a.train.rows == b.train.rows)
        options.dataSeed = 7
        let c = try DatasetPipeline.load([try DatasetSpec.parse("self-cognition#30")], options: options, tokenizer: tok, template: .qwen2_5)
        #expect(c.train.rows != a.train.rows)
        var val = DatasetOptions()
        val.valDatasets = [try fixture("folder")]
        let v = try DatasetPipeline.load([try DatasetSpec.parse("self-cognition#5")], options: val, tokenizer: tok, template: .qwen2_5)
        #expect(v.validation?.rows.count == 3 && v.report.validationRows == 3)
        val.splitDatasetRatio = 0.1
        #expect(throws: DataError.self) { try DatasetPipeline.load([try fixture("folder")], options: val, tokenizer: tok, template: .qwen2_5) }
    }

    /// The order ms-swift gives: RandomState(42) samples, then default_rng(get_seed) shuffles the concatenation.
    @Test func shuffleOrderFollowsMsSwift() throws {
        var report = DatasetLoadReport()
        var options = DatasetOptions()
        let all = try DatasetPipeline.readRows(try DatasetSpec.parse("self-cognition"), options: options, report: &report)
        let (rows, _) = try DatasetPipeline.loadRows([try DatasetSpec.parse("self-cognition#7")], splitRatio: 0, shuffle: true,
                                                     options: options, report: &report)
        var rs = NumpyRandomState(seed: 42)
        let picked = Array(rs.permutation(200).prefix(7))
        var g = NumpyGenerator(seed: UInt64(rs.nextSeed()))
        let expected = g.permutation(7).map { all[picked[$0]] }
        #expect(rows == expected)
        options.datasetShuffle = false
        let (plain, _) = try DatasetPipeline.loadRows([try DatasetSpec.parse("self-cognition#3")], splitRatio: 0, shuffle: false,
                                                      options: options, report: &report)
        #expect(plain == Array(all.prefix(3)))
    }
}
