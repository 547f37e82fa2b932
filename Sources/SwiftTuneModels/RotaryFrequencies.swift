import Foundation
import SwiftTuneCheckpoint

/// RoPE inverse frequencies and the attention scaling, as HF transformers' `ROPE_INIT_FUNCTIONS` compute them
/// (`modeling_rope_utils.py`): default, `linear`, `llama3` and `yarn`. Computed in Double and rounded once.
public struct RotaryFrequencies: Sendable, Equatable {
    /// `[headDim / 2]`: the angle of pair `i` at position `p` is `p · inverseFrequencies[i]`.
    public let inverseFrequencies: [Float]
    /// Multiplies cos and sin (YaRN's `attention_factor`; 1 otherwise).
    public let attentionScaling: Float

    public init(inverseFrequencies: [Float], attentionScaling: Float) {
        self.inverseFrequencies = inverseFrequencies
        self.attentionScaling = attentionScaling
    }

    /// Frequencies for a decoder config; throws for scalings the decoder does not implement.
    public init(config: DecoderConfig) throws {
        let dim = config.headDim, base = config.ropeTheta
        let plain = stride(from: 0, to: dim, by: 2).map { 1 / pow(base, Double($0) / Double(dim)) }
        switch config.ropeScaling {
        case .none:
            self.init(plain, scaling: 1)
        case let .linear(factor):
            self.init(plain.map { $0 / factor }, scaling: 1)
        case let .llama3(factor, low, high, original):
            // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, the band between interpolated.
            let context = Double(original)
            let lowWavelength = context / low, highWavelength = context / high
            let scaled = plain.map { inv -> Double in
                let wavelength = 2 * Double.pi / inv
                if wavelength < highWavelength { return inv }
                if wavelength > lowWavelength { return inv / factor }
                let smooth = (context / wavelength - low) / (high - low)
                return (1 - smooth) * inv / factor + smooth * inv
            }
            self.init(scaled, scaling: 1)
        case let .yarn(factor, original, betaFast, betaSlow, attentionFactor):
            // YaRN (arXiv:2309.00071): blend interpolated and extrapolated frequencies by a linear ramp over
            // the dimensions between the correction bounds, and scale cos/sin by the attention factor.
            func correctionDimension(_ rotations: Double) -> Double {
                Double(dim) * log(Double(original) / (rotations * 2 * Double.pi)) / (2 * log(base))
            }
            let low = max(floor(correctionDimension(betaFast)), 0)
            var high = min(ceil(correctionDimension(betaSlow)), Double(dim - 1))
            if low == high { high += 0.001 }
            let blended = plain.enumerated().map { i, inv -> Double in
                let ramp = min(max((Double(i) - low) / (high - low), 0), 1)
                let extrapolation = 1 - ramp
                return inv / factor * (1 - extrapolation) + inv * extrapolation
            }
            self.init(blended, scaling: attentionFactor)  // resolved by DecoderConfig (explicit, mscale or 0.1·ln(s)+1)
        case .dynamic:
            throw ModelError.unsupportedConfig(
                key: "rope_scaling.rope_type", value: "dynamic",
                hint: "dynamic NTK scaling changes with sequence length; use linear, llama3 or yarn")
        }
    }

    private init(_ values: [Double], scaling: Double) {
        self.init(inverseFrequencies: values.map { Float($0) }, attentionScaling: Float(scaling))
    }
}
