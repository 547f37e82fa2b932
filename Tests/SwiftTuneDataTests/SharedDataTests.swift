import Foundation
import SwiftTuneChat
@testable import SwiftTuneData
import SwiftTuneTestSupport
import Testing

/// The public datasets in ../shared/data (skipped where that folder is absent).
@Suite(.enabled(if: FileManager.default.fileExists(atPath: sharedData.path),
                 Comment(rawValue: "skipped: \(sharedData.path) is absent (the workspace's public datasets, not part of a clone)")))
struct SharedDataTests {
    func rows(_ path: String, _ report: inout DatasetLoadReport) throws -> [DatasetRow] {
        try DatasetPipeline.readRows(try DatasetSpec.parse(sharedData.appendingPathComponent(path).path),
                                     options: DatasetOptions(), report: &report)
    }

    @Test func everyFormatLoads() throws {
        var r = DatasetLoadReport()
        #expect(try rows("sft/alpaca_en_demo.json", &r).count == 999)
        #expect(try rows("sft/alpaca_zh_demo.json", &r).count == 1000)
        #expect(try rows("sft/identity.json", &r).count == 91)
        let dpo = try rows("dpo/dpo_en_demo.json", &r)
        #expect(dpo.count == 300 && dpo.allSatisfy { $0.rejectedResponse != nil })
        let hh = try rows("dpo/hh_rlhf_harmless_base_test.jsonl", &r)
        #expect(hh.count > 2000 && hh.allSatisfy { $0.rejectedResponse != nil })
        let kto = try rows("kto/kto_en_demo.json", &r)
        #expect(kto.count == 300 && kto.filter { $0.label == true }.count == 150)
        let tools = try rows("toolcall/glaive_toolcall_en_demo.json", &r)
        #expect(tools.count == 300 && tools.contains { $0.conversation.tools != nil })
        let math = try rows("math/test.jsonl", &r)
        #expect(math.count == 1319)
        var s = DatasetLoadReport()
        let share = try rows("sft/sharegpt_v3_cleaned_1k.jsonl", &s)
        // Rows with roles ms-swift rejects (bing, chatgpt, bard) or without a final answer are skipped.
        #expect(share.count + s.skippedCount == 1000 && share.count > 900)
    }

    @Test func encodesAlpacaAndToolCalls() throws {
        var options = DatasetOptions()
        options.maxLength = 512
        let tok = TestTokenizer()
        let alpaca = try DatasetPipeline.load([try DatasetSpec.parse(sharedData.appendingPathComponent("sft/alpaca_en_demo.json").path + "#200")],
                                              options: options, tokenizer: tok, template: .qwen2_5)
        #expect(alpaca.train.rows.count + alpaca.report.skipped[.tooLong, default: 0] == 200)
        let glaive = try DatasetPipeline.load([try DatasetSpec.parse(sharedData.appendingPathComponent("toolcall/glaive_toolcall_en_demo.json").path + "#20")],
                                              options: DatasetOptions(), tokenizer: tok, template: .qwen2_5)
        let texts = glaive.train.rows.map { tok.decode($0.chosen.inputIDs, skipSpecialTokens: false) }
        #expect(texts.contains { $0.contains("# Tools") && $0.contains("<tool_call>\n{\"name\": ") && $0.contains("<tool_response>") })
    }
}
