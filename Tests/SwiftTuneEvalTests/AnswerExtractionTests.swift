import Testing
@testable import SwiftTuneEval

/// Answer extraction, on hand-checked cases (what a reader takes as the final number or letter).
struct AnswerExtractionTests {
    @Test(arguments: [
        ("She makes 9 * 2 = $18 every day.\nThe answer is \\boxed{18}.", "18"),
        ("\\boxed{1,000} dollars, not 12", "1000"),
        ("First 3 apples, then 4 more: 7", "7"),
        ("The total is $1,234.50.", "1234.5"),
        ("It drops to -3 degrees.", "-3"),
        ("so \\boxed{42}", "42"),
        ("18.00", "18"),
        ("no number here", nil),
    ] as [(String, String?)])
    func finalNumber(answer: String, expected: String?) {
        #expect(AnswerExtraction.finalNumber(in: answer) == expected, "\(answer)")
    }

    @Test(arguments: [
        ("ANSWER: B", "B"),
        ("Let me think. A is wrong.\nANSWER: C", "C"),
        ("answer: (d)", "D"),
        ("The answer is A.", "A"),
        ("B) 4, since 2 + 2 = 4", "B"),
        ("(C)", "C"),
        ("ANSWER: E", nil),  // not one of the options
        ("I am not sure.", nil),
        ("A", "A"),
    ] as [(String, String?)])
    func choiceLetter(answer: String, expected: String?) {
        #expect(AnswerExtraction.choiceLetter(in: answer, letters: ["A", "B", "C", "D"]) == expected, "\(answer)")
    }

    @Test func goldNumbersCompareAsDecimals() {
        #expect(Evaluator.numbersEqual("18", "18.0"))
        #expect(Evaluator.numbersEqual("600", "600"))
        #expect(!Evaluator.numbersEqual("60", "600"))
    }
}
