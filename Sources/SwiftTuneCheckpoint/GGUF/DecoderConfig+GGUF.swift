import Foundation
import SwiftTuneFamilies

extension DecoderConfig {
    /// The config of a GGUF model, from its `{arch}.*` metadata and its tensor list, with the flags the
    /// `config.json` path sets for the same family (FORMATS.md §1):
    ///
    /// | GGUF | config |
    /// |---|---|
    /// | `embedding_length`, `feed_forward_length`, `block_count` | hidden, intermediate size, layers |
    /// | `attention.head_count`, `head_count_kv`, `key_length` | heads, kv heads, head_dim (default hidden/heads) |
    /// | `attention.layer_norm_rms_epsilon`, `rope.freq_base`, `context_length` | rms_norm_eps, rope_theta, max positions |
    /// | `vocab_size` (else `token_embd.weight` rows) | vocab_size |
    /// | `rope.scaling.type` / `factor` / `original_context_length` / `yarn_*`; `rope_freqs.weight` | rope scaling |
    /// | no `output.weight` tensor | tied embeddings |
    /// | `blk.0.attn_q.bias`, `attn_output.bias`, `ffn_gate.bias` present | attention, o_proj and MLP bias |
    /// | `tokenizer.ggml.bos/eos/padding_token_id` | bos, eos, pad |
    ///
    /// Counts may be stored with any integer type. The family (`ModelFamily(ggufArchitecture:)`) decides the rest as
    /// for `config.json`: a bias its entry marks `always` is there (Qwen2's q/k/v), one marked `never` is not, one read
    /// from a key is there when its tensor is; q/k norms (Qwen3); Mistral's window. A Llama 3.1-style
    /// `rope_freqs.weight` is turned back into `llama3` scaling (see `RopeScaling.llama3(fittedTo:…)`).
    public init(gguf file: GGUFFile) throws(CheckpointError) {
        let path = file.path
        guard let architecture = try file.string("general.architecture") else {
            throw .missingField(path: path, key: "general.architecture", expected: "a string such as \"llama\" or \"qwen2\"")
        }
        guard let modelType = ModelType(ggufArchitecture: architecture) else {
            throw .invalidValue(path: path, key: "general.architecture",
                                reason: "is \"\(ShownText.escaped(architecture))\", which is not a Llama-family decoder; supported: "
                                    + ModelType.ggufArchitectureNames.joined(separator: ", "))
        }
        func key(_ suffix: String) -> String { "\(architecture).\(suffix)" }
        func positive(_ suffix: String, default value: Int? = nil) throws(CheckpointError) -> Int {
            guard let found = try file.int(key(suffix)) ?? value else {
                throw .missingField(path: path, key: key(suffix), expected: "a positive integer")
            }
            guard found > 0 else { throw .invalidValue(path: path, key: key(suffix), reason: "must be positive, got \(found)") }
            return found
        }
        let hiddenSize = try positive("embedding_length")
        let heads = try positive("attention.head_count")
        let layers = try positive("block_count")
        let headDim: Int
        if let explicit = try file.int(key("attention.key_length")) {
            headDim = explicit
        } else {
            guard hiddenSize % heads == 0 else {
                throw .invalidValue(path: path, key: key("embedding_length"),
                                    reason: "(\(hiddenSize)) must be a multiple of \"\(key("attention.head_count"))\" (\(heads)) "
                                        + "when \"\(key("attention.key_length"))\" is absent")
            }
            headDim = hiddenSize / heads
        }
        if let valueLength = try file.int(key("attention.value_length")), valueLength != headDim {
            throw .invalidValue(path: path, key: key("attention.value_length"),
                                reason: "is \(valueLength), but the decoder needs it equal to the key length \(headDim)")
        }
        if let rotary = try file.int(key("rope.dimension_count")), rotary != headDim {
            throw .invalidValue(path: path, key: key("rope.dimension_count"),
                                reason: "is \(rotary), but partial RoPE is not supported (head dimension \(headDim))")
        }
        let embeddingRows = file.contains("token_embd.weight") ? try file.info("token_embd.weight").dimensions.last : nil
        let vocabSize = try positive("vocab_size", default: embeddingRows)
        let ropeTheta = try file.double(key("rope.freq_base")) ?? 10_000
        let maxPositions = try positive("context_length", default: modelType.defaultMaxPositionEmbeddings)
        let ropeScaling = try Self.ggufRopeScaling(file, architecture: architecture, headDim: headDim, ropeTheta: ropeTheta,
                                                   maxPositionEmbeddings: maxPositions)
        var windows = [Int?](repeating: nil, count: layers)
        if case .everyLayer = modelType.slidingWindow, let window = try file.int(key("attention.sliding_window")) {
            windows = Array(repeating: window, count: layers)
        }
        func flag(_ rule: ModelFamily.Flag, tensor: String) -> Bool {
            switch rule {
            case .never: false
            case .always: true
            case .key: file.contains(tensor)
            }
        }
        func tokenID(_ name: String) throws(CheckpointError) -> Int? { try file.int("tokenizer.ggml.\(name)_token_id") }
        self.init(
            modelType: modelType,
            vocabSize: vocabSize,
            hiddenSize: hiddenSize,
            intermediateSize: try positive("feed_forward_length"),
            numHiddenLayers: layers,
            numAttentionHeads: heads,
            numKeyValueHeads: try positive("attention.head_count_kv", default: heads),
            headDim: headDim,
            rmsNormEps: try file.double(key("attention.layer_norm_rms_epsilon")) ?? 1e-6,
            ropeTheta: ropeTheta,
            ropeScaling: ropeScaling,
            maxPositionEmbeddings: maxPositions,
            attentionBias: flag(modelType.queryKeyValueBias, tensor: "blk.0.attn_q.bias"),
            outputProjectionBias: flag(modelType.outputProjectionBias, tensor: "blk.0.attn_output.bias"),
            mlpBias: flag(modelType.mlpBias, tensor: "blk.0.ffn_gate.bias"),
            qkNorm: modelType.qkNorm,
            tieWordEmbeddings: !file.contains("output.weight"),
            layerSlidingWindows: windows,
            bosTokenId: try tokenID("bos"),
            eosTokenIds: try tokenID("eos").map { [$0] } ?? [],
            padTokenId: try tokenID("padding"))
        try validate(source: path)
    }

    /// Scaling from `{arch}.rope.scaling.*` (or the older `rope.scale_linear`), else from `rope_freqs.weight`.
    private static func ggufRopeScaling(_ file: GGUFFile, architecture: String, headDim: Int, ropeTheta: Double,
                                        maxPositionEmbeddings: Int) throws(CheckpointError) -> RopeScaling {
        func key(_ suffix: String) -> String { "\(architecture).rope.\(suffix)" }
        let original = try file.int(key("scaling.original_context_length"))
        let type = try file.string(key("scaling.type"))
        func factor() throws(CheckpointError) -> Double {
            guard let value = try file.double(key("scaling.factor")), value > 0 else {
                throw .missingField(path: file.path, key: key("scaling.factor"),
                                    expected: "a positive number when \"\(key("scaling.type"))\" is \"\(type ?? "")\"")
            }
            return value
        }
        switch type {
        case nil, "none":
            if type == nil, let linear = try file.double(key("scale_linear")), linear != 1 { return .linear(factor: linear) }
        case "linear":
            return .linear(factor: try factor())
        case "yarn":
            let scale = try factor()
            let attention = try file.double(key("scaling.attn_factor"))
            return .yarn(factor: scale, originalMaxPositionEmbeddings: original ?? maxPositionEmbeddings,
                         betaFast: try file.double(key("scaling.yarn_beta_fast")) ?? 32,
                         betaSlow: try file.double(key("scaling.yarn_beta_slow")) ?? 1,
                         attentionFactor: attention ?? (scale <= 1 ? 1 : 0.1 * log(scale) + 1))
        case let other?:
            throw .invalidValue(path: file.path, key: key("scaling.type"),
                                reason: "\"\(other)\" is not supported; supported: none, linear, yarn")
        }
        guard file.contains("rope_freqs.weight") else { return .none }
        let factors = try file.floats("rope_freqs.weight")
        return try RopeScaling.llama3(fittedTo: factors, headDim: headDim, ropeTheta: ropeTheta,
                                      originalMaxPositionEmbeddings: original ?? 8192, path: file.path)
    }
}
