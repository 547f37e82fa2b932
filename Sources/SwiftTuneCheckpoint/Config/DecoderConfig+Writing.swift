import SwiftTuneFamilies
import SwiftTuneJSON

extension DecoderConfig {
    /// The `architectures` entry transformers instantiates for this family.
    public var huggingFaceArchitecture: String { modelType.huggingFaceArchitecture }

    /// A Hugging Face `config.json` for this config, the reverse of `init(json:source:)` (which reads it back to an
    /// equal config): the transformers-4 layout (`rope_theta`, `rope_scaling`, `torch_dtype`), which transformers 5
    /// also loads. Used when the model came from a GGUF file and has no config.json of its own.
    ///
    /// - Parameter torchDtype: `float32`, `bfloat16` or `float16`, the dtype of the weights written next to it.
    public func huggingFaceConfig(torchDtype: String) -> JSONValue {
        func number(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
        func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
        func optionalInt(_ value: Int?) -> JSONValue { value.map(int) ?? .null }
        var members: [(String, JSONValue)] = [
            ("architectures", [.string(huggingFaceArchitecture)]),
            ("attention_dropout", 0.0),
            ("bos_token_id", optionalInt(bosTokenId)),
            ("eos_token_id", eosTokenIds.count == 1 ? int(eosTokenIds[0]) : eosTokenIds.isEmpty ? .null : .array(eosTokenIds.map(int))),
            ("head_dim", int(headDim)),
            ("hidden_act", "silu"),
            ("hidden_size", int(hiddenSize)),
            ("initializer_range", 0.02),
            ("intermediate_size", int(intermediateSize)),
            ("max_position_embeddings", int(maxPositionEmbeddings)),
            ("model_type", .string(modelType.rawValue)),
            ("num_attention_heads", int(numAttentionHeads)),
            ("num_hidden_layers", int(numHiddenLayers)),
            ("num_key_value_heads", int(numKeyValueHeads)),
            ("pad_token_id", optionalInt(padTokenId)),
            // An f32 epsilon read from GGUF (9.99999974e-06) is written as the float it was (1e-05).
            ("rms_norm_eps", number(Double(Float(rmsNormEps)) == rmsNormEps ? Double("\(Float(rmsNormEps))") ?? rmsNormEps : rmsNormEps)),
            ("rope_scaling", ropeScalingJSON),
            ("rope_theta", number(ropeTheta)),
            ("tie_word_embeddings", .bool(tieWordEmbeddings)),
            ("torch_dtype", .string(torchDtype)),
            ("use_cache", true),
            ("vocab_size", int(vocabSize)),
        ]
        // The family's own keys: the bias switches it reads (written once each), its constants, its window keys.
        var flagKeys: [(String, Bool)] = []
        for (rule, value) in [(modelType.queryKeyValueBias, attentionBias), (modelType.outputProjectionBias, outputProjectionBias),
                              (modelType.mlpBias, mlpBias)] {
            if case let .key(key) = rule, !flagKeys.contains(where: { $0.0 == key }) { flagKeys.append((key, value)) }
        }
        members += flagKeys.map { ($0.0, .bool($0.1)) }
        members += modelType.huggingFaceConstants.map { ($0.key, int($0.value)) }
        let windows = Set(layerSlidingWindows.compactMap { $0 })
        switch modelType.slidingWindow {
        case .everyLayer:
            members.append(("sliding_window", windows.first.map(int) ?? .null))
        case .optIn:
            // One window from the first windowed layer on: `max_window_layers` marks where it starts.
            let first = layerSlidingWindows.firstIndex { $0 != nil }
            members += [("use_sliding_window", .bool(first != nil)), ("sliding_window", windows.first.map(int) ?? .null),
                        ("max_window_layers", int(first ?? numHiddenLayers))]
        case .none:
            break
        }
        members.sort { $0.0 < $1.0 }
        return .object(members.map { JSONMember(key: $0.0, value: $0.1) })
    }

    /// `rope_scaling` in the transformers-4 spelling (`rope_type` plus its parameters), or null.
    private var ropeScalingJSON: JSONValue {
        func number(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
        switch ropeScaling {
        case .none:
            return .null
        case let .linear(factor):
            return ["factor": number(factor), "rope_type": "linear"]
        case let .dynamic(factor):
            return ["factor": number(factor), "rope_type": "dynamic"]
        case let .llama3(factor, low, high, original):
            return ["factor": number(factor), "high_freq_factor": number(high), "low_freq_factor": number(low),
                    "original_max_position_embeddings": .number(JSONNumber(original)), "rope_type": "llama3"]
        case let .yarn(factor, original, betaFast, betaSlow, attentionFactor):
            return ["attention_factor": number(attentionFactor), "beta_fast": number(betaFast), "beta_slow": number(betaSlow),
                    "factor": number(factor), "original_max_position_embeddings": .number(JSONNumber(original)),
                    "rope_type": "yarn"]
        }
    }

    /// A `generation_config.json` with the model's special tokens (what transformers derives from config.json).
    public func huggingFaceGenerationConfig() -> JSONValue {
        var members: [JSONMember] = [JSONMember(key: "_from_model_config", value: true)]
        if let bosTokenId { members.append(JSONMember(key: "bos_token_id", value: .number(JSONNumber(bosTokenId)))) }
        if !eosTokenIds.isEmpty {
            let ids = eosTokenIds.map { JSONValue.number(JSONNumber($0)) }
            members.append(JSONMember(key: "eos_token_id", value: ids.count == 1 ? ids[0] : .array(ids)))
        }
        if let padTokenId { members.append(JSONMember(key: "pad_token_id", value: .number(JSONNumber(padTokenId)))) }
        return .object(members)
    }
}
