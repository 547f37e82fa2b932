/// The registry: one entry per family, in `model_type` order. Sources: transformers' `LlamaConfig`, `MistralConfig`,
/// `Qwen2Config`, `Qwen3Config` (defaults, biases, windows), llama.cpp's `convert_hf_to_gguf.py` (architectures,
/// q/k permutation) and ms-swift's template registry (template names).
///
/// Adding a family: an entry here (with a template in `TemplateRegistry` if it needs a new one), a logits golden
/// from `scripts/golden/make_decoder_goldens.py` under `Tests/Fixtures/golden/<model_type>`, and, if it has parts
/// the flags above cannot describe, a new flag here and in `DecoderLayer`.
extension ModelFamily {
    public static let llama = ModelFamily(
        modelType: "llama", huggingFaceArchitecture: "LlamaForCausalLM", ggufArchitecture: "llama",
        ggufPermutesRotaryRows: true,
        chatTemplate: ChatTemplateChoice(name: "llama", withEotToken: "llama3", fromChatTemplate: nil),
        queryKeyValueBias: .key("attention_bias"), outputProjectionBias: .key("attention_bias"), mlpBias: .key("mlp_bias"),
        defaultMaxPositionEmbeddings: 2048, defaultBOSTokenID: 1, defaultEOSTokenIDs: [2],
        huggingFaceConstants: ["pretraining_tp": 1])

    /// Written to GGUF as `llama` (as llama.cpp's converter does); a `mistral` GGUF reads as Mistral.
    public static let mistral = ModelFamily(
        modelType: "mistral", huggingFaceArchitecture: "MistralForCausalLM", ggufArchitecture: "llama",
        ggufReadArchitectures: ["mistral"], ggufPermutesRotaryRows: true,
        chatTemplate: ChatTemplateChoice(name: "mistral", fromChatTemplate: ["chatml"]),
        slidingWindow: .everyLayer(defaultWindow: 4096),
        defaultMaxPositionEmbeddings: 4096 * 32, defaultBOSTokenID: 1, defaultEOSTokenIDs: [2])

    public static let qwen2 = ModelFamily(
        modelType: "qwen2", huggingFaceArchitecture: "Qwen2ForCausalLM", ggufArchitecture: "qwen2",
        ggufPermutesRotaryRows: false, chatTemplate: ChatTemplateChoice(name: "qwen2_5"),
        queryKeyValueBias: .always, slidingWindow: .optIn(defaultWindow: 4096, defaultFirstLayer: 28),
        defaultMaxPositionEmbeddings: 32768)

    public static let qwen3 = ModelFamily(
        modelType: "qwen3", huggingFaceArchitecture: "Qwen3ForCausalLM", ggufArchitecture: "qwen3",
        ggufPermutesRotaryRows: false, chatTemplate: ChatTemplateChoice(name: "qwen3"),
        queryKeyValueBias: .key("attention_bias"), outputProjectionBias: .key("attention_bias"), qkNorm: true,
        slidingWindow: .optIn(defaultWindow: 4096, defaultFirstLayer: 28),
        defaultHeadDim: 128,  // Qwen3Config's default; real Qwen3 configs always state it.
        defaultMaxPositionEmbeddings: 32768)

    /// Every family, in the order errors list them.
    public static let allCases: [ModelFamily] = [.llama, .mistral, .qwen2, .qwen3]
}
