import Foundation

extension RopeScaling {
    /// The `llama3` scaling whose frequencies llama.cpp stored as `rope_freqs.weight`.
    ///
    /// Llama 3.1+ GGUFs carry no scaling keys: `convert_hf_to_gguf.py` writes one factor per frequency instead,
    /// `1` for short wavelengths (λ < original/high), `factor` for long ones (λ > original/low) and
    /// `1 / ((1 − s)/factor + s)` between, with `s = (original/λ − low) / (high − low)` and λᵢ = 2π·θ^(2i/hd); ggml
    /// divides each frequency by its factor. The largest factor is `factor`; the in-between factors give `s` as a
    /// linear function of 1/λ, whose slope and intercept give `low` and `high` for the given original context
    /// (only their ratios to it matter; with fewer than two in-between factors any band that reproduces them is
    /// taken). The fit is checked by recomputing every factor, so the frequencies equal llama.cpp's.
    ///
    /// - Returns: `.none` when every factor is 1.
    /// - Throws: `invalidValue` naming `rope_freqs.weight` when the factors are not of that form (a recomputed
    ///   factor off by more than 1e-4).
    static func llama3(fittedTo factors: [Float], headDim: Int, ropeTheta: Double, originalMaxPositionEmbeddings original: Int,
                       path: String) throws(CheckpointError) -> RopeScaling {
        let key = "rope_freqs.weight"
        guard factors.count == headDim / 2 else {
            throw .invalidGGUF(path: path, key: "tensor \"\(key)\"", expected: "\(headDim / 2) values (head_dim / 2)",
                               got: "\(factors.count)")
        }
        if factors.allSatisfy({ $0 == 1 }) { return .none }
        let values = factors.map(Double.init)
        let factor = values.reduce(1, max)
        let wavelengths = (0..<values.count).map { 2 * Double.pi * pow(ropeTheta, Double(2 * $0) / Double(headDim)) }
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-6 * max(abs(a), abs(b)) }
        let between = values.indices.filter { !close(values[$0], 1) && !close(values[$0], factor) }
        func smooth(_ value: Double, _ factor: Double) -> Double { (1 / value - 1 / factor) / (1 - 1 / factor) }
        let context = Double(original)
        // x = original/λ falls as i grows: factor-entries (long wavelengths) have x < low, 1-entries x > high.
        let x = wavelengths.map { context / $0 }
        let low: Double, high: Double
        if between.count >= 2, let first = between.first, let last = between.last {
            let slope = (smooth(values[last], factor) - smooth(values[first], factor)) / (x[last] - x[first])
            low = x[first] - smooth(values[first], factor) / slope
            high = low + 1 / slope
        } else {
            // One or no in-between factor pins the band only loosely; any band that gives the same factors will do.
            let below = values.indices.filter { close(values[$0], factor) }.map { x[$0] }.max() ?? 0
            let above = values.indices.filter { close(values[$0], 1) }.map { x[$0] }.min() ?? 2 * (x.max() ?? 1)
            if let only = between.first {
                low = (below + x[only]) / 2
                high = low + (x[only] - low) / smooth(values[only], factor)
            } else {
                (low, high) = (below + (above - below) / 3, below + 2 * (above - below) / 3)
            }
        }
        for i in values.indices {
            let wavelength = wavelengths[i]
            let expected: Double
            if wavelength < context / high {
                expected = 1
            } else if wavelength > context / low {
                expected = factor
            } else {
                let s = (context / wavelength - low) / (high - low)
                expected = 1 / ((1 - s) / factor + s)
            }
            guard abs(expected - values[i]) <= 1e-4 * expected, low > 0, high > low else {
                throw .invalidValue(path: path, key: "\(key)[\(i)]",
                                    reason: "is \(values[i]), but the llama3 scaling fitted to the factors (factor \(factor), "
                                        + "low \(low), high \(high), original context \(original)) gives \(expected)")
            }
        }
        return .llama3(factor: factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositionEmbeddings: original)
    }
}
