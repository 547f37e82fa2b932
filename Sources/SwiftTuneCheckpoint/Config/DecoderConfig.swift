import SwiftTuneFamilies

/// The hyperparameters of a Llama-family decoder (Llama, Mistral, Qwen2, Qwen3), read from a Hugging Face
/// `config.json` (`load(from:)`, `init(json:source:)`), a GGUF file (`init(gguf:)`) or built in code
/// (`init(modelType:…)`).
///
/// Property names are the camelCase of the Hugging Face keys. The family differences the decoder needs are
/// resolved here into flags, so the decoder never switches on `modelType`; which keys decide them, and their
/// defaults, are the family's entry in `ModelFamily+Registry.swift` (SwiftTuneFamilies):
///
/// | family  | q/k/v bias (`attentionBias`) | o_proj bias (`outputProjectionBias`) | MLP bias | q/k RMSNorm | sliding window |
/// |---------|------------------------------|--------------------------------------|----------|-------------|----------------|
/// | llama   | `attention_bias`             | `attention_bias`                     | `mlp_bias` | no        | none |
/// | mistral | no                           | no                                   | no       | no          | `sliding_window` (default 4096, null = none), every layer; `layer_types` ignored as in transformers |
/// | qwen2   | yes                          | no                                   | no       | no          | if `use_sliding_window`: per `layer_types`, else layers ≥ `max_window_layers` |
/// | qwen3   | `attention_bias`             | `attention_bias`                     | no       | yes         | as qwen2 |
public struct DecoderConfig: Sendable, Equatable {
    /// The architectures this library implements (`model_type`): the registered families.
    public typealias ModelType = ModelFamily

    /// The architecture (`model_type`).
    public var modelType: ModelType
    /// Rows of `embed_tokens` and `lm_head`.
    public var vocabSize: Int
    /// Model width d.
    public var hiddenSize: Int
    /// MLP width (gate/up out, down in).
    public var intermediateSize: Int
    /// Number of decoder blocks (`model.layers.0` … `model.layers.{n-1}`).
    public var numHiddenLayers: Int
    /// Query heads; q_proj has `numAttentionHeads · headDim` rows.
    public var numAttentionHeads: Int
    /// Key/value heads (GQA); divides `numAttentionHeads`. k_proj/v_proj have `numKeyValueHeads · headDim` rows.
    public var numKeyValueHeads: Int
    /// Per-head width; may differ from hiddenSize / numAttentionHeads (Qwen3, some Mistral).
    public var headDim: Int
    /// ε inside every RMSNorm: x / sqrt(mean(x²) + ε) · w.
    public var rmsNormEps: Double
    /// RoPE base θ.
    public var ropeTheta: Double
    /// Long-context rescaling of the RoPE frequencies.
    public var ropeScaling: RopeScaling
    /// The context length the model was trained for (informational; RoPE is computed for any position).
    public var maxPositionEmbeddings: Int
    /// Whether q_proj, k_proj and v_proj have a bias.
    public var attentionBias: Bool
    /// Whether o_proj has a bias.
    public var outputProjectionBias: Bool
    /// Whether gate_proj, up_proj and down_proj have a bias.
    public var mlpBias: Bool
    /// Whether each head's q and k are RMS-normalised (weights `q_norm`, `k_norm`, shape (headDim)) before RoPE.
    public var qkNorm: Bool
    /// Whether `lm_head` reuses `embed_tokens` (then the checkpoint usually has no `lm_head.weight`).
    public var tieWordEmbeddings: Bool
    /// Per layer: the sliding attention window (a query at position p sees keys at p − window + 1 … p, i.e. `window`
    /// keys including itself, as in `transformers`), or nil for full causal attention. Count = numHiddenLayers.
    public var layerSlidingWindows: [Int?]
    /// Beginning-of-sequence id, if the model has one.
    public var bosTokenId: Int?
    /// End-of-sequence ids (`eos_token_id` may be one id or a list); empty when unset.
    public var eosTokenIds: [Int]
    /// Padding id, if set.
    public var padTokenId: Int?
    /// The checkpoint's storage dtype as `transformers` names it (`"bfloat16"`, `"float16"`, `"float32"`), if given.
    public var torchDtype: String?

    /// A config built in code. Defaults follow the Llama conventions: `numKeyValueHeads` = heads,
    /// `headDim` = hiddenSize / heads, no biases, full attention in every layer. Call `validate()` before use.
    public init(modelType: ModelType = .llama, vocabSize: Int, hiddenSize: Int, intermediateSize: Int,
                numHiddenLayers: Int, numAttentionHeads: Int, numKeyValueHeads: Int? = nil, headDim: Int? = nil,
                rmsNormEps: Double = 1e-6, ropeTheta: Double = 10_000, ropeScaling: RopeScaling = .none,
                maxPositionEmbeddings: Int = 2048, attentionBias: Bool = false, outputProjectionBias: Bool = false,
                mlpBias: Bool = false, qkNorm: Bool = false, tieWordEmbeddings: Bool = false,
                layerSlidingWindows: [Int?]? = nil, bosTokenId: Int? = nil, eosTokenIds: [Int] = [],
                padTokenId: Int? = nil, torchDtype: String? = nil) {
        self.modelType = modelType
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
        self.headDim = headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.attentionBias = attentionBias
        self.outputProjectionBias = outputProjectionBias
        self.mlpBias = mlpBias
        self.qkNorm = qkNorm
        self.tieWordEmbeddings = tieWordEmbeddings
        self.layerSlidingWindows = layerSlidingWindows ?? Array(repeating: nil, count: max(0, numHiddenLayers))
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
        self.torchDtype = torchDtype
    }

    /// Checks the values the decoder relies on; errors use the Hugging Face key names and `source` as the file.
    public func validate(source: String = "DecoderConfig") throws(CheckpointError) {
        func positive(_ value: Int, _ key: String) throws(CheckpointError) {
            guard value > 0 else { throw .invalidValue(path: source, key: key, reason: "must be positive, got \(value)") }
        }
        func positive(_ value: Double, _ key: String) throws(CheckpointError) {
            guard value > 0, value.isFinite else {
                throw .invalidValue(path: source, key: key, reason: "must be a positive number, got \(value)")
            }
        }
        try positive(vocabSize, "vocab_size")
        try positive(hiddenSize, "hidden_size")
        try positive(intermediateSize, "intermediate_size")
        try positive(numHiddenLayers, "num_hidden_layers")
        try positive(numAttentionHeads, "num_attention_heads")
        try positive(numKeyValueHeads, "num_key_value_heads")
        try positive(headDim, "head_dim")
        try positive(maxPositionEmbeddings, "max_position_embeddings")
        try positive(rmsNormEps, "rms_norm_eps")
        try positive(ropeTheta, "rope_theta")
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw .invalidValue(path: source, key: "num_attention_heads",
                                reason: "(\(numAttentionHeads)) must be a multiple of \"num_key_value_heads\" (\(numKeyValueHeads))")
        }
        guard headDim % 2 == 0 else {
            throw .invalidValue(path: source, key: "head_dim", reason: "must be even for RoPE, got \(headDim)")
        }
        guard layerSlidingWindows.count == numHiddenLayers else {
            throw .invalidValue(path: source, key: "layer_types",
                                reason: "has \(layerSlidingWindows.count) entries, expected one per layer (\(numHiddenLayers))")
        }
        for case let window? in layerSlidingWindows { try positive(window, "sliding_window") }
        switch ropeScaling {
        case .none: break
        case let .linear(factor), let .dynamic(factor): try positive(factor, "rope_scaling.factor")
        case let .llama3(factor, low, high, original):
            try positive(factor, "rope_scaling.factor")
            try positive(low, "rope_scaling.low_freq_factor")
            try positive(original, "rope_scaling.original_max_position_embeddings")
            guard high > low else {
                throw .invalidValue(path: source, key: "rope_scaling.high_freq_factor",
                                    reason: "must be greater than \"low_freq_factor\" (\(low)), got \(high)")
            }
        case let .yarn(factor, original, betaFast, betaSlow, attentionFactor):
            try positive(factor, "rope_scaling.factor")
            try positive(original, "rope_scaling.original_max_position_embeddings")
            try positive(betaFast, "rope_scaling.beta_fast")
            try positive(betaSlow, "rope_scaling.beta_slow")
            try positive(attentionFactor, "rope_scaling.attention_factor")
        }
    }

    /// Query heads per key/value head.
    public var groupSize: Int { numAttentionHeads / max(numKeyValueHeads, 1) }
}
