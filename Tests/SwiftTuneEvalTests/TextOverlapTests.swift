import Foundation
import SwiftTuneJSON
import Testing
@testable import SwiftTuneEval

/// BLEU-4 and ROUGE-L against NLTK's `sentence_bleu` (method1 smoothing) and rouge-score's ROUGE-L
/// (`scripts/golden/make_eval_goldens.py`).
struct TextOverlapTests {
    static func goldens() throws -> [JSONValue] {
        let text = try String(contentsOf: evalFixtures.appendingPathComponent("goldens.json"), encoding: .utf8)
        return try #require(try JSONParser.parse(text)["overlap"]?.arrayValue)
    }

    @Test func matchesNLTKAndRougeScore() throws {
        let cases = try Self.goldens()
        #expect(cases.count == 7)
        for entry in cases {
            let answer = try #require(entry["answer"]?.stringValue), reference = try #require(entry["reference"]?.stringValue)
            #expect(TextOverlap.tokens(answer) == strings(entry["answer_words"]))
            #expect(TextOverlap.tokens(reference) == strings(entry["reference_words"]))
            let bleu = TextOverlap.bleu4(answer, reference: reference), rouge = TextOverlap.rougeL(answer, reference: reference)
            let goldBleu = try #require(entry["bleu4"]?.doubleValue), goldRouge = try #require(entry["rouge_l_f"]?.doubleValue)
            #expect(abs(bleu - goldBleu) < 1e-9, "BLEU-4 of '\(answer)' vs '\(reference)': \(bleu), NLTK \(goldBleu)")
            #expect(abs(rouge - goldRouge) < 1e-9, "ROUGE-L of '\(answer)' vs '\(reference)': \(rouge), rouge-score \(goldRouge)")
        }
    }

    @Test func emptyAnswerScoresZero() {
        #expect(TextOverlap.bleu4("", reference: "Paris") == 0)
        #expect(TextOverlap.rougeL("", reference: "Paris") == 0)
    }
}
