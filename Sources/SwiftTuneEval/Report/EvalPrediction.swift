/// One scored answer, a line of `predictions/<dataset>.jsonl`: enough to see why a row was scored as it was.
public struct EvalPrediction: Sendable, Equatable, Codable {
    public var dataset: String
    public var subset: String
    /// `file:line` of the row.
    public var location: String
    /// How it was scored: `generation` or `loglikelihood`.
    public var method: String
    /// The user turn the model was given (few-shot examples, question and options).
    public var prompt: String
    /// The model's answer (generation), or the option it found most likely (log-likelihood).
    public var answer: String
    /// What was compared with the gold answer: the final number, the letter; nil when none was found. For open QA,
    /// the answer itself.
    public var extracted: String?
    public var gold: String
    /// Exact match of `extracted` and `gold`; nil for open QA (scored by `scores`).
    public var correct: Bool?
    /// Per metric: ROUGE-L and BLEU-4 for open QA.
    public var scores: [String: Double]?
    /// Per option letter, `log p(option)` (log-likelihood scoring).
    public var logLikelihoods: [String: Double]?

    enum CodingKeys: String, CodingKey {
        case dataset, subset, location, method, prompt, answer, extracted, gold, correct, scores
        case logLikelihoods = "loglikelihoods"
    }

    /// `extracted` and `correct` are written as `null` when absent (nothing found, not exact-match scored), so every
    /// line has them; `scores` and `loglikelihoods` only where they apply.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dataset, forKey: .dataset)
        try container.encode(subset, forKey: .subset)
        try container.encode(location, forKey: .location)
        try container.encode(method, forKey: .method)
        try container.encode(prompt, forKey: .prompt)
        try container.encode(answer, forKey: .answer)
        try container.encode(extracted, forKey: .extracted)
        try container.encode(gold, forKey: .gold)
        try container.encode(correct, forKey: .correct)
        try container.encodeIfPresent(scores, forKey: .scores)
        try container.encodeIfPresent(logLikelihoods, forKey: .logLikelihoods)
    }
}

/// One line of the report table: a metric of a subset (or `OVERALL`, the sample-weighted mean of a dataset's
/// subsets) over `count` samples.
public struct EvalScore: Sendable, Equatable, Codable {
    public var dataset: String
    public var subset: String
    public var metric: String
    /// In [0, 1].
    public var score: Double
    public var count: Int

    enum CodingKeys: String, CodingKey {
        case dataset, subset, metric, score
        case count = "num"
    }
}
