import Testing
@testable import SwiftTuneData

@Suite struct DatasetSpecTests {
    let exists: (String) -> Bool = { ["data/a.jsonl", "weird#1.json"].contains($0) }

    @Test func parsesPathsAndHubIds() throws {
        #expect(try DatasetSpec.parse("data/a.jsonl", fileExists: exists).source == .path("data/a.jsonl"))
        let sampled = try DatasetSpec.parse("data/a.jsonl#500", fileExists: exists)
        #expect(sampled.source == .path("data/a.jsonl") && sampled.sampleCount == 500)
        #expect(try DatasetSpec.parse("weird#1.json", fileExists: exists).sampleCount == nil)
        let hub = try DatasetSpec.parse("hf::org/name:sub1/sub2#20", fileExists: exists)
        #expect(hub.source == .hub(id: "org/name", useHF: true) && hub.subsets == ["sub1", "sub2"] && hub.sampleCount == 20)
        #expect(try DatasetSpec.parse("ms::swift/self-cognition#100", fileExists: exists).source == .hub(id: "swift/self-cognition", useHF: false))
        #expect(try DatasetSpec.parse("AI-ModelScope/alpaca-gpt4-data-en", fileExists: exists).source
            == .hub(id: "AI-ModelScope/alpaca-gpt4-data-en", useHF: nil))
        #expect(throws: DataError.self) { try DatasetSpec.parse("x#abc", fileExists: exists) }
        #expect(throws: DataError.self) { try DatasetSpec.parse("x#0", fileExists: exists) }
        #expect(throws: DataError.self) { try DatasetSpec.parse("gh::x/y", fileExists: exists) }
        #expect(throws: DataError.self) { try DatasetSpec.parse(" ", fileExists: exists) }
    }

    @Test func hubIdsAreNotFoundLocally() throws {
        var report = DatasetLoadReport()
        let spec = try DatasetSpec.parse("org/missing-dataset")
        do {
            _ = try DatasetPipeline.readRows(spec, options: DatasetOptions(), report: &report)
            Issue.record("expected notFoundLocally")
        } catch {
            #expect(error.description.contains("not found locally"))
        }
    }
}
