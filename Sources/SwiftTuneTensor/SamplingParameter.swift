/// The columns of `Backend.sample`'s per-row settings: parameters f64 `[S, SamplingParameter.count]`, row s's
/// value of setting `c` at `parameters[s, c.rawValue]` (`GenerationConfig`'s names and domains).
public enum SamplingParameter: Int, CaseIterable, Sendable {
    /// Softmax temperature; 0 picks the first largest score (greedy).
    case temperature
    /// Keep the k most likely tokens, ties with the k-th included (0: all); a whole number.
    case topK
    /// Keep the most likely tokens whose probabilities add up to top_p, in (0, 1] (1: all).
    case topP
    /// Drop tokens less likely than min_p × the most likely, in [0, 1] (0: none).
    case minP
    /// CTRL's repetition penalty on the history's ids, > 0 (1: off).
    case repetitionPenalty
    /// OpenAI's presence penalty on the answer's ids (0: off).
    case presencePenalty
    /// OpenAI's frequency penalty on the answer's ids, per occurrence (0: off).
    case frequencyPenalty
    /// The uniform number in [0, 1) the draw compares cumulative probabilities with (unused when greedy).
    case uniform

    /// Columns per row.
    public static let count = allCases.count
}
