import Foundation
import SwiftTuneFamilies

extension DecoderConfig {
    /// Reads `config.json` at `url` (or `url/config.json` when `url` is a directory) and validates it.
    public static func load(from url: URL) throws(CheckpointError) -> DecoderConfig {
        var isDirectory: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? url.appendingPathComponent("config.json") : url
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw CheckpointError.io(path: file.path, operation: "read", reason: error.localizedDescription)
        }
        return try DecoderConfig(json: data, source: file.path)
    }

    /// Parses a Hugging Face `config.json` for `model_type` llama, mistral, qwen2 or qwen3 and validates it.
    ///
    /// Accepts both the transformers-4 layout (top-level `rope_theta`, `rope_scaling` with `type` or `rope_type`,
    /// `torch_dtype`, `use_sliding_window`/`max_window_layers`) and the transformers-5 one (`rope_parameters`,
    /// `dtype`, `layer_types`). Absent optional keys take each family's `transformers` default. Integers may be
    /// written as floats (`1.0e4`).
    ///
    /// - Parameter source: the file name or path used in error messages.
    public init(json: Data, source: String) throws(CheckpointError) {
        let root = try ConfigObject.root(json, path: source)
        let typeName = try root.requiredString("model_type")
        guard let modelType = ModelType(rawValue: typeName) else {
            throw .unsupportedModelType(path: source, got: typeName, supported: ModelType.allCases.map(\.rawValue))
        }
        func positiveInt(_ key: String) throws(CheckpointError) -> Int {
            let value = try root.requiredInt(key)
            guard value > 0 else { throw .invalidValue(path: source, key: key, reason: "must be positive, got \(value)") }
            return value
        }
        let hiddenSize = try positiveInt("hidden_size")
        let heads = try positiveInt("num_attention_heads")
        let layers = try positiveInt("num_hidden_layers")
        let headDim: Int
        if let explicit = try root.int("head_dim") {
            headDim = explicit
        } else if let familyDefault = modelType.defaultHeadDim {
            headDim = familyDefault
        } else {
            guard hiddenSize % heads == 0 else {
                throw .invalidValue(path: source, key: "hidden_size",
                                    reason: "(\(hiddenSize)) must be a multiple of \"num_attention_heads\" (\(heads)) "
                                        + "when \"head_dim\" is absent")
            }
            headDim = hiddenSize / heads
        }
        if let activation = try root.string("hidden_act"), activation != "silu" {
            throw .invalidValue(path: source, key: "hidden_act", reason: "must be \"silu\" (SwiGLU), got \"\(activation)\"")
        }
        let maxPositions = try root.int("max_position_embeddings") ?? modelType.defaultMaxPositionEmbeddings
        let (ropeTheta, ropeScaling) = try Self.parseRope(root, maxPositionEmbeddings: maxPositions)

        func flag(_ rule: ModelFamily.Flag) throws(CheckpointError) -> Bool {
            switch rule {
            case .never: false
            case .always: true
            case let .key(key): try root.bool(key) ?? false
            }
        }
        let legacyDtype = try root.string("torch_dtype"), dtype = try root.string("dtype")
        let torchDtype = legacyDtype ?? dtype
        self.init(
            modelType: modelType,
            vocabSize: try positiveInt("vocab_size"),
            hiddenSize: hiddenSize,
            intermediateSize: try positiveInt("intermediate_size"),
            numHiddenLayers: layers,
            numAttentionHeads: heads,
            numKeyValueHeads: try root.int("num_key_value_heads") ?? heads,
            headDim: headDim,
            rmsNormEps: try root.double("rms_norm_eps") ?? 1e-6,
            ropeTheta: ropeTheta,
            ropeScaling: ropeScaling,
            maxPositionEmbeddings: maxPositions,
            attentionBias: try flag(modelType.queryKeyValueBias),
            outputProjectionBias: try flag(modelType.outputProjectionBias),
            mlpBias: try flag(modelType.mlpBias),
            qkNorm: modelType.qkNorm,
            tieWordEmbeddings: try root.bool("tie_word_embeddings") ?? false,
            layerSlidingWindows: try Self.parseSlidingWindows(root, modelType: modelType, layers: layers),
            // Absent: the config class's default; an explicit null means none.
            bosTokenId: root.isAbsent("bos_token_id") ? modelType.defaultBOSTokenID : try root.int("bos_token_id"),
            eosTokenIds: root.isAbsent("eos_token_id") ? modelType.defaultEOSTokenIDs : try root.intList("eos_token_id") ?? [],
            padTokenId: try root.int("pad_token_id"),
            torchDtype: torchDtype)
        try validate(source: source)
    }

    /// θ and the scaling from `rope_parameters` (transformers 5), else top-level `rope_theta` and `rope_scaling`.
    private static func parseRope(_ root: ConfigObject,
                                  maxPositionEmbeddings: Int) throws(CheckpointError) -> (Double, RopeScaling) {
        let topTheta = try root.double("rope_theta")
        let current = try root.object("rope_parameters"), legacy = try root.object("rope_scaling")
        guard let parameters = current ?? legacy else {
            return (topTheta ?? 10_000, .none)
        }
        // transformers 5 nests parameters per layer type for some families ({"full_attention": {...}, ...}).
        if let nested = parameters.members.first(where: { if case .object = $0.value { true } else { false } }) {
            throw .invalidValue(path: parameters.path, key: parameters.key(nested.key),
                                reason: "is a per-layer-type RoPE setting, which Llama-family decoders do not use")
        }
        let theta = try parameters.double("rope_theta") ?? topTheta ?? 10_000
        let ropeType = try parameters.string("rope_type"), legacyType = try parameters.string("type")
        let type = ropeType ?? legacyType ?? "default"
        func positive(_ key: String) throws(CheckpointError) -> Double {
            let value = try parameters.requiredDouble(key)
            guard value > 0 else {
                throw .invalidValue(path: parameters.path, key: parameters.key(key), reason: "must be positive, got \(value)")
            }
            return value
        }
        switch type {
        case "default":
            return (theta, .none)
        case "linear":
            return (theta, .linear(factor: try positive("factor")))
        case "dynamic":
            return (theta, .dynamic(factor: try positive("factor")))
        case "llama3":
            let low = try positive("low_freq_factor"), high = try positive("high_freq_factor")
            guard high > low else {
                throw .invalidValue(path: parameters.path, key: parameters.key("high_freq_factor"),
                                    reason: "must be greater than \"low_freq_factor\" (\(low)), got \(high)")
            }
            return (theta, .llama3(factor: try positive("factor"), lowFreqFactor: low, highFreqFactor: high,
                                   originalMaxPositionEmbeddings: try parameters.requiredInt("original_max_position_embeddings")))
        case "yarn":
            let factor = try positive("factor")
            let attentionFactor: Double
            if let explicit = try parameters.double("attention_factor") {
                attentionFactor = explicit
            } else if let mscale = try parameters.double("mscale"), let allDim = try parameters.double("mscale_all_dim"),
                      mscale != 0, allDim != 0 {
                attentionFactor = yarnScale(factor, mscale) / yarnScale(factor, allDim)
            } else {
                attentionFactor = yarnScale(factor, 1)
            }
            return (theta, .yarn(factor: factor,
                                 originalMaxPositionEmbeddings: try parameters.int("original_max_position_embeddings")
                                     ?? maxPositionEmbeddings,
                                 betaFast: try parameters.double("beta_fast") ?? 32,
                                 betaSlow: try parameters.double("beta_slow") ?? 1,
                                 attentionFactor: attentionFactor))
        default:
            throw .invalidValue(path: parameters.path, key: parameters.key(parameters.has("rope_type") ? "rope_type" : "type"),
                                reason: "\"\(type)\" is not supported; supported: \(RopeScaling.supportedTypes.joined(separator: ", "))")
        }
    }

    /// YaRN's magnitude correction `0.1 · mscale · ln(scale) + 1` (1 when scale ≤ 1).
    private static func yarnScale(_ scale: Double, _ mscale: Double) -> Double {
        scale <= 1 ? 1 : 0.1 * mscale * Foundation.log(scale) + 1
    }

    /// The window of each layer, following `transformers` and the family's rule (`ModelFamily.SlidingWindow`):
    /// none; `sliding_window` in every layer (Mistral, which ignores `layer_types`); or, only with
    /// `use_sliding_window`, the layers `layer_types` marks, else those from `max_window_layers` on (Qwen).
    private static func parseSlidingWindows(_ root: ConfigObject, modelType: ModelType,
                                            layers: Int) throws(CheckpointError) -> [Int?] {
        switch modelType.slidingWindow {
        case .none:
            return Array(repeating: nil, count: layers)
        case let .everyLayer(defaultWindow):
            let window = root.isAbsent("sliding_window") ? defaultWindow : try root.int("sliding_window")
            return Array(repeating: window, count: layers)
        case let .optIn(defaultWindow, defaultFirstLayer):
            let enabled = try root.bool("use_sliding_window") ?? false
            let window = !enabled ? nil : root.isAbsent("sliding_window") ? defaultWindow : try root.int("sliding_window")
            if let types = try root.stringList("layer_types") {
                guard types.count == layers else {
                    throw .invalidValue(path: root.path, key: "layer_types",
                                        reason: "has \(types.count) entries, expected one per layer (\(layers))")
                }
                var windows: [Int?] = []
                for (position, type) in types.enumerated() {
                    switch type {
                    case "full_attention": windows.append(nil)
                    case "sliding_attention": windows.append(window)
                    default:
                        throw .invalidValue(path: root.path, key: "layer_types[\(position)]",
                                            reason: "must be \"full_attention\" or \"sliding_attention\", got \"\(type)\"")
                    }
                }
                return windows
            }
            let first = try root.int("max_window_layers") ?? defaultFirstLayer
            return (0..<layers).map { window != nil && $0 >= first ? window : nil }
        }
    }
}
