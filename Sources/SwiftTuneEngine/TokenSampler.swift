import SwiftTuneTensor

/// One step's pick for one sequence, with its log-probabilities when asked for.
struct TokenChoice: Sendable, Equatable {
    var token: Int32
    /// log p(token) under the model's distribution (log-softmax of the raw logits).
    var logprob: Double?
    /// The most likely tokens and their log-probabilities, most likely first.
    var top: [TokenProbability] = []
}

/// A token id and its log-probability.
struct TokenProbability: Sendable, Equatable {
    var id: Int32
    var logprob: Double
}

/// Picks the next token from one row of logits on the host, with HF transformers' logits processors in
/// `generate`'s order: repetition penalty, then OpenAI's presence and frequency penalties on the answer so far,
/// then (sampling only) temperature, top-k, top-p, min-p, then a draw from the request's seeded generator; greedy
/// takes the first largest score (`torch.argmax`).
enum TokenSampler {
    /// `history` is the prompt and the answer so far; the answer starts at `answerStart` (the presence and
    /// frequency penalties count only its tokens, as vLLM does; nil: no answer yet).
    static func choose(_ logits: UnsafeBufferPointer<Float>, history: [Int32], answerStart: Int? = nil,
                       config: GenerationConfig, generator: inout SeededGenerator) -> TokenChoice {
        var scores = Array(logits)
        if config.repetitionPenalty != 1 { penalize(&scores, history: history, penalty: Float(config.repetitionPenalty)) }
        if config.presencePenalty != 0 || config.frequencyPenalty != 0 {
            let answer = history[min(answerStart ?? history.count, history.count)...]
            penalizeOccurrences(&scores, answer: answer, presence: config.presencePenalty, frequency: config.frequencyPenalty)
        }
        let token: Int
        if config.isSampling {
            let candidates = filtered(&scores, config: config)
            token = draw(candidates, scores: scores, generator: &generator)
        } else {
            token = argmax(scores)
        }
        var choice = TokenChoice(token: Int32(token))
        if config.logprobs {
            let logTotal = logSumExp(logits)
            choice.logprob = Double(logits[token]) - logTotal
            choice.top = largest(logits, count: config.topLogprobs).map {
                TokenProbability(id: Int32($0), logprob: Double(logits[$0]) - logTotal)
            }
        }
        return choice
    }

    /// `RepetitionPenaltyLogitsProcessor`: for each distinct id seen, `s < 0 ? s · penalty : s / penalty`.
    static func penalize(_ scores: inout [Float], history: [Int32], penalty: Float) {
        for id in Set(history) where id >= 0 && Int(id) < scores.count {
            let s = scores[Int(id)]
            scores[Int(id)] = s < 0 ? s * penalty : s / penalty
        }
    }

    /// OpenAI's penalties (https://platform.openai.com/docs/advanced-usage, "frequency and presence penalties"):
    /// `score[j] −= c[j] · frequency + (c[j] > 0 ? presence : 0)`, where `c[j]` counts id j in the answer so far.
    static func penalizeOccurrences(_ scores: inout [Float], answer: ArraySlice<Int32>, presence: Double, frequency: Double) {
        var counts: [Int32: Int] = [:]
        for id in answer where id >= 0 && Int(id) < scores.count { counts[id, default: 0] += 1 }
        for (id, count) in counts {
            scores[Int(id)] -= Float(Double(count) * frequency + presence)
        }
    }

    /// Temperature, top-k, top-p and min-p (HF's warpers, in that order); returns the surviving ids (ascending)
    /// with `scores` divided by the temperature.
    static func filtered(_ scores: inout [Float], config: GenerationConfig) -> [Int] {
        let temperature = Float(config.temperature)
        if temperature != 1 { for i in scores.indices { scores[i] /= temperature } }
        var candidates = scores.indices.filter { scores[$0] > -.infinity }
        // TopKLogitsWarper: drop scores below the k-th largest (ties with it stay).
        if config.topK > 0, config.topK < candidates.count {
            let threshold = kthLargest(candidates.map { scores[$0] }, k: config.topK)
            candidates = candidates.filter { scores[$0] >= threshold }
        }
        // TopPLogitsWarper: ascending order, drop while the cumulative probability stays ≤ 1 − top_p; the most
        // likely token always stays.
        if config.topP < 1, candidates.count > 1 {
            let ascending = candidates.sorted { (scores[$0], $0) < (scores[$1], $1) }
            let probabilities = softmax(ascending.map { scores[$0] })
            var cumulative = 0.0, dropped = 0
            for (i, p) in probabilities.enumerated() where i < ascending.count - 1 {
                cumulative += p
                if cumulative <= 1 - config.topP { dropped = i + 1 } else { break }
            }
            candidates = ascending.dropFirst(dropped).sorted()
        }
        // MinPLogitsWarper: drop tokens with p < min_p · p_max (the top token always stays).
        if config.minP > 0, candidates.count > 1 {
            let maxScore = candidates.map { scores[$0] }.max() ?? 0
            let cutoff = Double(maxScore) + _log(config.minP)
            candidates = candidates.filter { Double(scores[$0]) >= cutoff }
        }
        return candidates
    }

    /// A draw from the softmax over `candidates` (ascending ids) with one uniform number.
    static func draw(_ candidates: [Int], scores: [Float], generator: inout SeededGenerator) -> Int {
        guard let last = candidates.last else { return argmax(scores) }
        let probabilities = softmax(candidates.map { scores[$0] })
        let u = generator.nextUniform()
        var cumulative = 0.0
        for (i, p) in probabilities.enumerated() {
            cumulative += p
            if u < cumulative { return candidates[i] }
        }
        return last
    }

    /// The index of the first largest value.
    static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// `softmax` in Double.
    static func softmax(_ values: [Float]) -> [Double] {
        let top = Double(values.max() ?? 0)
        let weights = values.map { _exp(Double($0) - top) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// `log Σ exp(x)` in Double.
    static func logSumExp(_ values: UnsafeBufferPointer<Float>) -> Double {
        let top = Double(values.max() ?? 0)
        var total = 0.0
        for value in values { total += _exp(Double(value) - top) }
        return top + _log(total)
    }

    /// The k-th largest value (k ≥ 1), with a small sorted buffer: one pass for the usual small k.
    static func kthLargest(_ values: [Float], k: Int) -> Float {
        var top: [Float] = []  // ascending, at most k
        top.reserveCapacity(k)
        for value in values {
            if top.count < k {
                top.insert(value, at: top.firstIndex { $0 >= value } ?? top.count)
            } else if value > top[0] {
                top.removeFirst()
                top.insert(value, at: top.firstIndex { $0 >= value } ?? top.count)
            }
        }
        return top.first ?? -.infinity
    }

    /// The indices of the `count` largest values, largest first (ties: lower index first).
    static func largest(_ values: UnsafeBufferPointer<Float>, count: Int) -> [Int] {
        guard count > 0 else { return [] }
        var top: [Int] = []  // by (value descending, index ascending), at most count
        func before(_ a: Int, _ b: Int) -> Bool { values[a] > values[b] || (values[a] == values[b] && a < b) }
        for i in values.indices {
            if top.count == count, !before(i, top[count - 1]) { continue }
            top.insert(i, at: top.firstIndex { before(i, $0) } ?? top.count)
            if top.count > count { top.removeLast() }
        }
        return top
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _exp(_ x: Double) -> Double { Darwin.exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
#endif
