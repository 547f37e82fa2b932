/// `--metric`: a score of the responses against the labels, over the rows that have labels.
public enum InferenceMetric: String, Sendable, CaseIterable {
    /// Exact match after trimming surrounding whitespace: the fraction of rows whose response equals the label.
    case acc
    /// ROUGE-L F1 (Lin 2004, https://aclanthology.org/W04-1013/) on whitespace-separated tokens, β = 1, averaged
    /// over rows: `F = 2·P·R / (P + R)` with `P = LCS / response tokens`, `R = LCS / label tokens`.
    case rouge

    /// The mean score over `pairs` that have a label (nil when none has).
    public func score(_ pairs: [(response: String, labels: String?)]) -> Double? {
        let scored = pairs.compactMap { pair in pair.labels.map { (pair.response, $0) } }
        guard !scored.isEmpty else { return nil }
        let total = scored.reduce(0.0) { sum, pair in
            switch self {
            case .acc: sum + (pair.0.trimmingSpaces() == pair.1.trimmingSpaces() ? 1 : 0)
            case .rouge: sum + Self.rougeL(pair.0, pair.1)
            }
        }
        return total / Double(scored.count)
    }

    /// ROUGE-L F1 of two texts split on whitespace (1 when both are empty).
    public static func rougeL(_ candidate: String, _ reference: String) -> Double {
        let c = candidate.split(whereSeparator: \.isWhitespace), r = reference.split(whereSeparator: \.isWhitespace)
        if c.isEmpty || r.isEmpty { return c.isEmpty && r.isEmpty ? 1 : 0 }
        return rougeLF1(c, r)
    }

    /// ROUGE-L F1 of two token sequences: `2·P·R / (P + R)` with `P = LCS / candidate tokens` and
    /// `R = LCS / reference tokens` (the longest common subsequence, one row at a time); 0 when either is empty or
    /// nothing is shared.
    public static func rougeLF1<Token: Equatable>(_ c: [Token], _ r: [Token]) -> Double {
        guard !c.isEmpty, !r.isEmpty else { return 0 }
        var previous = [Int](repeating: 0, count: r.count + 1)
        for token in c {
            var current = [Int](repeating: 0, count: r.count + 1)
            for (j, other) in r.enumerated() {
                current[j + 1] = token == other ? previous[j] + 1 : max(previous[j + 1], current[j])
            }
            previous = current
        }
        let lcs = Double(previous[r.count])
        guard lcs > 0 else { return 0 }
        let precision = lcs / Double(c.count), recall = lcs / Double(r.count)
        return 2 * precision * recall / (precision + recall)
    }
}
