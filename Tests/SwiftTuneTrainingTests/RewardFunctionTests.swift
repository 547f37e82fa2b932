import Foundation
import Testing
import SwiftTuneJSON
@testable import SwiftTuneTraining

@Suite("GRPO built-in rewards")
struct RewardFunctionTests {
    func sample(_ completion: String, tokens: Int = 10, solution: String? = nil, key: String = "solution") -> RewardSample {
        RewardSample(prompt: "q", completion: completion, completionTokenCount: tokens,
                     row: solution.map { [JSONMember(key: key, value: .string($0))] } ?? [], location: "train.jsonl:3")
    }

    @Test func accuracyReadsBoxedAnswerTagsGSM8KAndLastNumber() throws {
        let reward = try BuiltinRewards.make("accuracy", settings: RewardSettings())
        let gsm8k = "Natalia sold 48/2 = 24 clips in May.\n#### 72"
        let values = try reward.rewards([
            sample("so the answer is \\boxed{72}", solution: gsm8k),
            sample("<think>48+24</think><answer>72</answer>", solution: gsm8k),
            sample("<think>48+24</think><answer> 1,072 </answer>", solution: "1072"),
            sample("I think it is 71.", solution: gsm8k),
            sample("first 3 then 72.", solution: "#### 72"),
            sample("\\boxed{\\frac{1}{2}} no", solution: "\\boxed{\\frac{1}{2}}"),
            sample("0.5", solution: "1/2"),
            sample("no number here", solution: "5"),
            sample("it is 5", solution: "5", key: "answer"),
        ])
        #expect(values == [1, 1, 1, 0, 1, 1, 1, 0, 1])
        #expect(AccuracyReward.finalAnswer("a \\boxed{x^{2}} b") == "x^{2}")
        #expect(AccuracyReward.finalAnswer("Total: -1,234.5 dollars") == "-1234.5")
    }

    @Test func accuracyNamesTheMissingColumnAndRow() throws {
        let reward = try BuiltinRewards.make("accuracy", settings: RewardSettings())
        let rows: [(fields: [JSONMember], location: String)] = [
            ([JSONMember(key: "solution", value: "1")], "a.jsonl:1"),
            ([JSONMember(key: "messages", value: .array([]))], "a.jsonl:2"),
        ]
        do {
            try reward.checkColumns(rows: rows)
            Issue.record("a row without solution/answer passed")
        } catch {
            let text = "\(error)"
            #expect(text.contains("accuracy") && text.contains("solution or answer") && text.contains("a.jsonl:2"), "\(text)")
        }
    }

    @Test func formatWantsThinkThenAnswerAndNothingAfter() throws {
        let reward = try BuiltinRewards.make("format", settings: RewardSettings())
        let values = try reward.rewards([
            sample("<think>a\nb</think>\n<answer>3</answer>"),
            sample("<think>a</think><answer>3</answer>\n"),
            sample("x<think>a</think><answer>3</answer>"),
            sample("<answer>3</answer>"),
            sample("<think>a</think> <answer>3</answer>"),
        ])
        #expect(values == [1, 0, 0, 0, 1])
    }

    @Test func cosineFollowsTheLengthSchedule() throws {
        var settings = RewardSettings()
        settings.maxCompletionLength = 100
        let reward = try BuiltinRewards.make("cosine", settings: settings)
        let values = try reward.rewards([
            sample("\\boxed{4}", tokens: 0, solution: "4"), sample("\\boxed{4}", tokens: 100, solution: "4"),
            sample("\\boxed{4}", tokens: 50, solution: "4"), sample("\\boxed{5}", tokens: 0, solution: "4"),
            sample("\\boxed{5}", tokens: 100, solution: "4"), sample("\\boxed{5}", tokens: 50, solution: "4"),
        ])
        let expected = [1.0, 0.5, 0.75, -0.5, 0.0, -0.25]
        #expect(zip(values, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(values)")
    }

    @Test func repetitionPenalisesRepeatedNGrams() throws {
        let reward = try BuiltinRewards.make("repetition", settings: RewardSettings())
        let values = try reward.rewards([
            sample("a b c d e"), sample("a b c a b c a b c"), sample("a b"), sample(""),
        ])
        // 9 words: 7 trigrams, 3 distinct → −(1 − 3/7).
        #expect(values[0] == 0 && abs(values[1] + 4.0 / 7.0) < 1e-12 && values[2] == 0 && values[3] == 0, "\(values)")
    }

    @Test func softOverlongRampsOverTheCache() throws {
        var settings = RewardSettings()
        settings.maxCompletionLength = 100
        settings.softCacheLength = 20
        let reward = try BuiltinRewards.make("soft_overlong", settings: settings)
        let values = try reward.rewards([sample("x", tokens: 50), sample("x", tokens: 80), sample("x", tokens: 90),
                                         sample("x", tokens: 100)])
        #expect(values == [0, 0, -0.5, -1])
        settings.softCacheLength = nil
        #expect(throws: TrainingError.self) { _ = try BuiltinRewards.make("soft_overlong", settings: settings) }
        #expect(throws: TrainingError.self) { _ = try BuiltinRewards.make("accuracyy", settings: settings) }
    }
}

@Suite("GRPO reward command")
struct CommandRewardTests {
    static let sample = RewardSample(prompt: "q", completion: "hello", completionTokenCount: 2,
                                     row: [JSONMember(key: "solution", value: "4")], location: "rows.jsonl:7")

    @Test func oneJSONLineInOneNumberOut() throws {
        // Echoes the row's solution column back: the program sees the row.
        let reward = try CommandReward(command: #"while IFS= read -r l; do s=${l#*\"solution\": \"}; echo "${s%%\"*}"; done"#)
        #expect(try reward.rewards([Self.sample, Self.sample]) == [4, 4])
        #expect(try reward.rewards([Self.sample]) == [4], "the same process answers the next batch")
    }

    @Test func aSilentProgramTimesOut() throws {
        let reward = try CommandReward(command: "exec sleep 30")
        reward.answerTimeout = 1
        #expect { try reward.rewards([Self.sample]) } throws: { "\($0)".contains("no answer within 1 s") && "\($0)".contains("rows.jsonl:7") }
    }
}
