/// One Llama-family architecture swift-tune runs, and everything the rest of the code needs to know about it:
/// its Hugging Face and GGUF names, how its `config.json` and GGUF tensors decide the decoder's optional parts,
/// and its default chat template (by name, so this target needs no chat code). The entries are in
/// `ModelFamily+Registry.swift`; `DecoderConfig` (config.json, GGUF, writing both back), `GGUFWeights`,
/// `TemplateRegistry` and the Ollama export read them, so adding a family is one entry there plus a logits golden.
///
/// `DecoderConfig.ModelType` is this type: `.llama`, `ModelFamily(rawValue: "qwen2")`, `allCases`.
public struct ModelFamily: Sendable, Hashable, RawRepresentable, CaseIterable, CustomStringConvertible {
    /// How a family decides one optional part of the decoder (a bias).
    public enum Flag: Sendable, Equatable {
        /// Never present (`config.json` keys are ignored; a GGUF tensor too).
        case never
        /// Always present (Qwen2's q/k/v bias).
        case always
        /// Present when `config.json` sets this boolean key (default false), or, in a GGUF, when the tensor is there.
        case key(String)
    }

    /// Which layers attend within a sliding window.
    public enum SlidingWindow: Sendable, Equatable {
        /// Full attention everywhere.
        case none
        /// Every layer, with `sliding_window` (`defaultWindow` when absent, none when null); a GGUF's
        /// `{arch}.attention.sliding_window`. `layer_types` is ignored, as transformers' Mistral ignores it.
        case everyLayer(defaultWindow: Int)
        /// Only with `use_sliding_window`: the layers `layer_types` marks `sliding_attention`, else those from
        /// `max_window_layers` (default `defaultFirstLayer`) on, with `sliding_window` (default `defaultWindow`).
        case optIn(defaultWindow: Int, defaultFirstLayer: Int)
    }

    /// `config.json`'s `model_type`, also this family's name.
    public let modelType: String
    /// The `architectures` entry transformers instantiates (`Qwen2ForCausalLM`).
    public let huggingFaceArchitecture: String
    /// The `general.architecture` llama.cpp's converter writes for it (Mistral is written as `llama`).
    public let ggufArchitecture: String
    /// The `general.architecture` values read as this family.
    public let ggufReadArchitectures: [String]
    /// Whether GGUF files of this family store q/k rows in ggml's interleaved RoPE order (llama.cpp's
    /// `LlamaModel.permute`; NEOX-RoPE families are not permuted). See `RotaryRowPermutation`.
    public let ggufPermutesRotaryRows: Bool
    /// The chat template `infer` and `sft` pick for it, unless `--template` says otherwise.
    public let chatTemplate: ChatTemplateChoice
    /// q_proj, k_proj and v_proj bias.
    public let queryKeyValueBias: Flag
    /// o_proj bias.
    public let outputProjectionBias: Flag
    /// gate_proj, up_proj and down_proj bias.
    public let mlpBias: Flag
    /// Whether each head's q and k are RMS-normalised before RoPE (`q_norm`, `k_norm`).
    public let qkNorm: Bool
    public let slidingWindow: SlidingWindow
    /// `head_dim` when `config.json` omits it; nil: hidden_size / num_attention_heads.
    public let defaultHeadDim: Int?
    /// transformers' default `max_position_embeddings`.
    public let defaultMaxPositionEmbeddings: Int
    /// transformers' `bos_token_id` and `eos_token_id` when `config.json` omits them (an explicit null means none).
    public let defaultBOSTokenID: Int?
    public let defaultEOSTokenIDs: [Int]
    /// Integer keys transformers' config class always writes (Llama's `pretraining_tp`), written into a
    /// `config.json` made for this family.
    public let huggingFaceConstants: [String: Int]

    public init(modelType: String, huggingFaceArchitecture: String, ggufArchitecture: String,
                ggufReadArchitectures: [String]? = nil, ggufPermutesRotaryRows: Bool, chatTemplate: ChatTemplateChoice,
                queryKeyValueBias: Flag = .never, outputProjectionBias: Flag = .never, mlpBias: Flag = .never,
                qkNorm: Bool = false, slidingWindow: SlidingWindow = .none, defaultHeadDim: Int? = nil,
                defaultMaxPositionEmbeddings: Int, defaultBOSTokenID: Int? = nil, defaultEOSTokenIDs: [Int] = [],
                huggingFaceConstants: [String: Int] = [:]) {
        self.modelType = modelType
        self.huggingFaceArchitecture = huggingFaceArchitecture
        self.ggufArchitecture = ggufArchitecture
        self.ggufReadArchitectures = ggufReadArchitectures ?? [ggufArchitecture]
        self.ggufPermutesRotaryRows = ggufPermutesRotaryRows
        self.chatTemplate = chatTemplate
        self.queryKeyValueBias = queryKeyValueBias
        self.outputProjectionBias = outputProjectionBias
        self.mlpBias = mlpBias
        self.qkNorm = qkNorm
        self.slidingWindow = slidingWindow
        self.defaultHeadDim = defaultHeadDim
        self.defaultMaxPositionEmbeddings = defaultMaxPositionEmbeddings
        self.defaultBOSTokenID = defaultBOSTokenID
        self.defaultEOSTokenIDs = defaultEOSTokenIDs
        self.huggingFaceConstants = huggingFaceConstants
    }

    /// The registered family with this `model_type`.
    public init?(rawValue: String) {
        guard let family = Self.allCases.first(where: { $0.modelType == rawValue }) else { return nil }
        self = family
    }

    /// The registered family a GGUF `general.architecture` value is read as.
    public init?(ggufArchitecture: String) {
        guard let family = Self.allCases.first(where: { $0.ggufReadArchitectures.contains(ggufArchitecture) }) else {
            return nil
        }
        self = family
    }

    /// Every `general.architecture` value some family reads, sorted.
    public static var ggufArchitectureNames: [String] { allCases.flatMap(\.ggufReadArchitectures).sorted() }

    public var rawValue: String { modelType }
    public var description: String { modelType }

    /// Families are the same when their `model_type` is.
    public static func == (lhs: ModelFamily, rhs: ModelFamily) -> Bool { lhs.modelType == rhs.modelType }
    public func hash(into hasher: inout Hasher) { hasher.combine(modelType) }
}
