import SwiftTuneTensor

/// One row's settings of `Backend.sample` (the columns `SamplingParameter` names).
struct SampleSettings: Sendable, Equatable {
    var temperature: Double
    var topK: Int
    var topP: Double
    var minP: Double
    var repetitionPenalty: Double
    var presencePenalty: Double
    var frequencyPenalty: Double
    var uniform: Double

    /// The settings in `row` (`SamplingParameter.count` values).
    init(_ row: UnsafePointer<Double>) {
        func value(_ column: SamplingParameter) -> Double { row[column.rawValue] }
        temperature = value(.temperature)
        let k = value(.topK)
        topK = k >= 0 && k <= Double(Int32.max) && k == k.rounded() ? Int(k) : -1  // -1: not a whole number ≥ 0
        topP = value(.topP)
        minP = value(.minP)
        repetitionPenalty = value(.repetitionPenalty)
        presencePenalty = value(.presencePenalty)
        frequencyPenalty = value(.frequencyPenalty)
        uniform = value(.uniform)
    }
}

extension CPUKernels {
    /// One row of `Backend.sample`: the token picked from `logits` `[V]` with `history` (prompt and answer so far)
    /// and `answer` (its end) ids, and its log-probability under the raw logits when `wantsLogprob` (else 0).
    ///
    /// The steps and their arithmetic are those of HF transformers' logits processors in `generate`'s order: f32
    /// scores, softmaxes and the cumulative sums in f64, summed in order (ascending score for top-p, ascending id
    /// for the draw), so the same uniform number gives the same token as the engine's host sampler.
    static func sampleRow(logits: UnsafeBufferPointer<Float>, settings: SampleSettings,
                          history: UnsafeBufferPointer<Int32>, answer: UnsafeBufferPointer<Int32>,
                          wantsLogprob: Bool) -> (token: Int32, logprob: Double) {
        var scores = Array(logits)
        let vocabulary = scores.count
        if settings.repetitionPenalty != 1 {
            // RepetitionPenaltyLogitsProcessor: each distinct id once.
            let penalty = Float(settings.repetitionPenalty)
            for id in Set(history) where id >= 0 && Int(id) < vocabulary {
                let s = scores[Int(id)]
                scores[Int(id)] = s < 0 ? s * penalty : s / penalty
            }
        }
        if settings.presencePenalty != 0 || settings.frequencyPenalty != 0 {
            var counts: [Int32: Int] = [:]
            for id in answer where id >= 0 && Int(id) < vocabulary { counts[id, default: 0] += 1 }
            for (id, count) in counts {
                scores[Int(id)] -= Float(Double(count) * settings.frequencyPenalty + settings.presencePenalty)
            }
        }
        let token: Int
        if settings.temperature > 0 {
            let candidates = sampleCandidates(&scores, settings: settings)
            token = sampleDraw(candidates, scores: scores, uniform: settings.uniform)
        } else {
            token = firstArgmax(scores)
        }
        guard wantsLogprob else { return (Int32(token), 0) }
        let top = Double(logits.max() ?? 0)
        var total = 0.0
        for value in logits { total += Double.exp(Double(value) - top) }
        return (Int32(token), Double(logits[token]) - (top + Double.log(total)))
    }

    /// Temperature, then top-k, top-p and min-p (HF's warpers, in that order) over the scores above −∞: the ids
    /// left, ascending, with `scores` divided by the temperature.
    static func sampleCandidates(_ scores: inout [Float], settings: SampleSettings) -> [Int] {
        let temperature = Float(settings.temperature)
        if temperature != 1 { for i in scores.indices { scores[i] /= temperature } }
        var candidates = scores.indices.filter { scores[$0] > -.infinity }
        // TopKLogitsWarper: drop scores below the k-th largest (ties with it stay).
        if settings.topK > 0, settings.topK < candidates.count {
            var values = candidates.map { scores[$0] }
            values.sort(by: >)
            let threshold = values[settings.topK - 1]
            candidates = candidates.filter { scores[$0] >= threshold }
        }
        // TopPLogitsWarper: ascending (score, id), drop while the cumulative probability stays ≤ 1 − top_p; the most
        // likely token always stays.
        if settings.topP < 1, candidates.count > 1 {
            let ascending = candidates.sorted { (scores[$0], $0) < (scores[$1], $1) }
            let probabilities = softmax(ascending.map { scores[$0] })
            var cumulative = 0.0, dropped = 0
            for (i, p) in probabilities.enumerated() where i < ascending.count - 1 {
                cumulative += p
                if cumulative <= 1 - settings.topP { dropped = i + 1 } else { break }
            }
            candidates = ascending.dropFirst(dropped).sorted()
        }
        // MinPLogitsWarper: drop tokens with p < min_p · p_max (the top token always stays).
        if settings.minP > 0, candidates.count > 1 {
            let maxScore = candidates.map { scores[$0] }.max() ?? 0
            let cutoff = Double(maxScore) + Double.log(settings.minP)
            candidates = candidates.filter { Double(scores[$0]) >= cutoff }
        }
        return candidates
    }

    /// The first of `candidates` (ascending ids) whose cumulative probability exceeds `uniform`; the last one if
    /// none does; the first largest score if there is no candidate.
    static func sampleDraw(_ candidates: [Int], scores: [Float], uniform: Double) -> Int {
        guard let last = candidates.last else { return firstArgmax(scores) }
        let probabilities = softmax(candidates.map { scores[$0] })
        var cumulative = 0.0
        for (i, p) in probabilities.enumerated() {
            cumulative += p
            if uniform < cumulative { return candidates[i] }
        }
        return last
    }

    /// The index of the first largest value (`torch.argmax`).
    static func firstArgmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// Softmax in f64: `exp(x − max)` summed in order, each divided by the sum.
    static func softmax(_ values: [Float]) -> [Double] {
        let top = Double(values.max() ?? 0)
        let weights = values.map { Double.exp(Double($0) - top) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }
}
