import Foundation
import Testing
import SwiftTuneTensor
import SwiftTuneTokenizers
@testable import SwiftTuneEngine

/// The logits processors against values worked out by hand from HF transformers' definitions.
@Suite("Token sampling")
struct SamplingTests {
    func sampled(_ config: GenerationConfig) -> GenerationConfig {
        var config = config
        config.temperature = config.temperature == 0 ? 1 : config.temperature
        return config
    }

    @Test func repetitionPenaltyDividesPositiveAndMultipliesNegativeScores() {
        var scores: [Float] = [2, -2, 1, 0.5]
        TokenSampler.penalize(&scores, history: [0, 1, 1, 3], penalty: 2)
        #expect(scores == [1, -4, 1, 0.25])
    }

    @Test func greedyTakesTheFirstLargestAfterThePenalty() {
        var generator = SeededGenerator(seed: 1)
        let logits: [Float] = [1, 3, 3, 2.9]
        let plain = logits.withUnsafeBufferPointer {
            TokenSampler.choose($0, history: [], config: GenerationConfig(), generator: &generator)
        }
        #expect(plain.token == 1)
        let penalized = logits.withUnsafeBufferPointer {
            TokenSampler.choose($0, history: [1, 2], config: GenerationConfig(repetitionPenalty: 1.5), generator: &generator)
        }
        #expect(penalized.token == 3)
    }

    @Test func topKKeepsTiesWithTheKthScore() {
        var scores: [Float] = [1, 5, 3, 3, 0]
        #expect(TokenSampler.filtered(&scores, config: sampled(GenerationConfig(topK: 2))) == [1, 2, 3])
        #expect(TokenSampler.kthLargest([4, 1, 7, 7, 2], k: 3) == 4)
    }

    @Test func topPKeepsTheSmallestSetReachingP() {
        // Probabilities 0.5, 0.3, 0.15, 0.05 (log-scores); ascending cumulative 0.05, 0.2, 0.5, 1.
        let base: [Float] = [log(0.5), log(0.3), log(0.15), log(0.05)].map { Float($0) }
        for (topP, kept) in [(0.9, [0, 1, 2]), (0.6, [0, 1]), (0.45, [0]), (1.0, [0, 1, 2, 3])] {
            var scores = base
            #expect(TokenSampler.filtered(&scores, config: sampled(GenerationConfig(topP: topP))) == kept, "top_p \(topP)")
        }
    }

    @Test func minPDropsTokensBelowAFractionOfTheTop() {
        var scores: [Float] = [log(0.6), log(0.3), log(0.1)].map { Float($0) }
        #expect(TokenSampler.filtered(&scores, config: sampled(GenerationConfig(minP: 0.4))) == [0, 1])
    }

    @Test func temperatureSharpensTheDraws() {
        let logits: [Float] = [0, 1, 2]
        func counts(_ temperature: Double) -> [Int] {
            var generator = SeededGenerator(seed: 5)
            var counts = [0, 0, 0]
            for _ in 0..<2000 {
                let choice = logits.withUnsafeBufferPointer {
                    TokenSampler.choose($0, history: [], config: GenerationConfig(temperature: temperature), generator: &generator)
                }
                counts[Int(choice.token)] += 1
            }
            return counts
        }
        let hot = counts(1), cold = counts(0.25)
        // p = softmax([0, 1, 2]) ≈ 0.090, 0.245, 0.665; at T = 1/4 ≈ 0.0003, 0.018, 0.982.
        #expect(abs(Double(hot[2]) / 2000 - 0.665) < 0.04 && abs(Double(hot[0]) / 2000 - 0.090) < 0.03)
        #expect(cold[2] > 1900)
    }

    @Test func logprobsAreTheRawLogSoftmaxWithTheTopAlternatives() throws {
        var generator = SeededGenerator(seed: 1)
        let logits: [Float] = [0, 1, 2, 2]
        let choice = logits.withUnsafeBufferPointer {
            TokenSampler.choose($0, history: [2], config: GenerationConfig(repetitionPenalty: 2, logprobs: true, topLogprobs: 2),
                                generator: &generator)
        }
        let total = log(1 + exp(1.0) + 2 * exp(2.0))
        #expect(choice.token == 3)  // the penalty halves token 2's score
        #expect(abs(try #require(choice.logprob) - (2 - total)) < 1e-9, "before the penalty")
        #expect(choice.top.map(\.id) == [2, 3])
    }

    // MARK: Text

    @Test func stopStringsSplitOverTokensAreHeldBackAndCut() throws {
        let tokenizer = try Tokenizer(contentsOf: qwen2Folder)
        let ids = tokenizer.encode("ab cd<x>ef", addSpecialTokens: false)
        var text = ResponseText(tokenizer: tokenizer, stopStrings: ["<x>", "zz"])
        var deltas: [String] = []
        for id in ids {
            deltas.append(text.append(id))
            if text.stopped { break }
        }
        #expect(text.stopped && text.text == "ab cd" && deltas.joined() == "ab cd")
        #expect(deltas.allSatisfy { !$0.contains("<") }, "a stop-string prefix is never shown: \(deltas)")
        // A prefix that never completes comes out at the end.
        var open = ResponseText(tokenizer: tokenizer, stopStrings: ["<xy"])
        let shown = tokenizer.encode("ab<x", addSpecialTokens: false).map { open.append($0) }.joined()
        #expect(shown == "ab" && open.finish() == "<x" && open.text == "ab<x" && !open.stopped)
    }

    @Test func multiByteCharactersAreNeverSplit() throws {
        let tokenizer = try Tokenizer(contentsOf: qwen2Folder)
        let sentence = "héllo wörld ✓ 日本 🙂"
        var text = ResponseText(tokenizer: tokenizer, stopStrings: [])
        var deltas = tokenizer.encode(sentence, addSpecialTokens: false).map { text.append($0) }
        deltas.append(text.finish())
        #expect(deltas.joined() == sentence)
        #expect(deltas.allSatisfy { !$0.contains("\u{FFFD}") }, "\(deltas)")
    }
}
