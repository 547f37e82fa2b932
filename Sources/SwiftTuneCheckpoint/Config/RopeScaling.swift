/// How RoPE frequencies are rescaled for long context (Hugging Face `rope_scaling` / `rope_parameters`).
///
/// The base frequencies are θ_i = ropeTheta^(−2i/headDim), i < headDim/2, in the rotate-half pairing
/// (x[i], x[i + headDim/2]). Formulas: `transformers` `modeling_rope_utils.py`.
public enum RopeScaling: Sendable, Equatable {
    /// Plain RoPE (`rope_type` "default" or no scaling).
    case none
    /// Every frequency divided by `factor` (position interpolation, https://arxiv.org/abs/2306.15595).
    case linear(factor: Double)
    /// Llama 3.1: long wavelengths (> original context / lowFreqFactor) divided by `factor`, short ones
    /// (< original context / highFreqFactor) kept, and a smooth blend in between.
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositionEmbeddings: Int)
    /// YaRN (https://arxiv.org/abs/2309.00071): per-dimension blend of interpolated and original frequencies with a
    /// linear ramp between the correction dimensions of `betaFast` and `betaSlow` rotations over
    /// `originalMaxPositionEmbeddings`; cos and sin are multiplied by `attentionFactor`. `attentionFactor` is resolved
    /// at load time (explicit value, else from `mscale`/`mscale_all_dim`, else 0.1·ln(factor) + 1).
    case yarn(factor: Double, originalMaxPositionEmbeddings: Int, betaFast: Double, betaSlow: Double, attentionFactor: Double)
    /// Dynamic NTK scaling: parsed so configs load, but **not yet supported by the decoder**, which should refuse it.
    case dynamic(factor: Double)

    /// The Hugging Face `rope_type` string.
    public var ropeType: String {
        switch self {
        case .none: "default"
        case .linear: "linear"
        case .llama3: "llama3"
        case .yarn: "yarn"
        case .dynamic: "dynamic"
        }
    }

    /// The `rope_type` values this library parses.
    public static let supportedTypes = ["default", "linear", "llama3", "yarn", "dynamic"]
}
