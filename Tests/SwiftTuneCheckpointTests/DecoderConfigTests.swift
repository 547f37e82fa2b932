import Foundation
import SwiftTuneCheckpoint
import Testing

/// Configs are trimmed copies of the published `config.json` files of each family (fewer layers where the
/// per-layer list would get long).
@Suite struct DecoderConfigTests {
    func parse(_ json: String) throws -> DecoderConfig {
        try DecoderConfig(json: Data(json.utf8), source: "config.json")
    }

    func parseError(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> CheckpointError? {
        checkpointError(sourceLocation: sourceLocation) { _ = try parse(json) }
    }

    @Test func llamaTransformers4WithLlama3RopeScaling() throws {
        // meta-llama/Llama-3.2-1B (transformers 4.45).
        let config = try parse("""
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
             "initializer_range": 0.02, "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
             "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8,
             "pretraining_tp": 1, "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
             "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256}
            """)
        let expected = DecoderConfig(
            modelType: .llama, vocabSize: 128_256, hiddenSize: 2048, intermediateSize: 8192, numHiddenLayers: 16,
            numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 64, rmsNormEps: 1e-5, ropeTheta: 500_000,
            ropeScaling: .llama3(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192),
            maxPositionEmbeddings: 131_072, tieWordEmbeddings: true, bosTokenId: 128_000, eosTokenIds: [128_001],
            torchDtype: "bfloat16")
        #expect(config == expected)
        #expect(config.groupSize == 4)
    }

    @Test func llamaTransformers5WithRopeParametersAndBiases() throws {
        // SmolLM2-135M as transformers 5 writes it, with attention and MLP biases switched on.
        let config = try parse("""
            {"architectures": ["LlamaForCausalLM"], "attention_bias": true, "bos_token_id": 1, "dtype": "bfloat16",
             "eos_token_id": [2, 3], "hidden_act": "silu", "hidden_size": 576, "intermediate_size": 1536,
             "max_position_embeddings": 8192, "mlp_bias": true, "model_type": "llama", "num_attention_heads": 9,
             "num_hidden_layers": 30, "num_key_value_heads": 3, "pad_token_id": 2, "rms_norm_eps": 1e-05,
             "rope_parameters": {"rope_type": "llama3", "rope_theta": 100000.0, "factor": 8.0, "low_freq_factor": 1.0,
                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
             "tie_word_embeddings": true, "transformers_version": "5.0.0", "vocab_size": 49152}
            """)
        #expect(config.headDim == 64)  // 576 / 9: head_dim absent
        #expect(config.ropeTheta == 100_000)
        #expect(config.ropeScaling == .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192))
        #expect(config.attentionBias && config.outputProjectionBias && config.mlpBias)
        #expect(!config.qkNorm)
        #expect(config.eosTokenIds == [2, 3] && config.padTokenId == 2 && config.bosTokenId == 1)
        #expect(config.torchDtype == "bfloat16")
        #expect(config.layerSlidingWindows == Array(repeating: nil, count: 30))
    }

    @Test func mistralSlidingWindowAppliesToEveryLayer() throws {
        // mistralai/Mistral-7B-v0.1, 4 layers; attention_bias is not a Mistral key and is ignored.
        let config = try parse("""
            {"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
             "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
             "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 4, "num_key_value_heads": 8,
             "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false,
             "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 32000, "attention_bias": true}
            """)
        #expect(config.modelType == .mistral)
        #expect(config.layerSlidingWindows == [4096, 4096, 4096, 4096])
        #expect(!config.attentionBias && !config.outputProjectionBias && !config.mlpBias && !config.qkNorm)
        #expect(config.headDim == 128 && config.numKeyValueHeads == 8)
        #expect(config.ropeScaling == .none && config.ropeTheta == 10_000)

        // Mistral-7B-v0.3 disables the window with null.
        let noWindow = try parse("""
            {"model_type": "mistral", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
             "num_hidden_layers": 2, "vocab_size": 100, "sliding_window": null, "rope_theta": 1000000.0}
            """)
        #expect(noWindow.layerSlidingWindows == [nil, nil])
        #expect(noWindow.bosTokenId == 1 && noWindow.eosTokenIds == [2])  // MistralConfig defaults
    }

    @Test func qwen2HasQKVBiasAndWindowsOnlyWhenEnabled() throws {
        // Qwen/Qwen2.5-0.5B: use_sliding_window false, so no layer has a window.
        let config = try parse("""
            {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
             "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
             "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2",
             "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
             "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
             "transformers_version": "4.40.1", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}
            """)
        #expect(config.attentionBias && !config.outputProjectionBias && !config.mlpBias && !config.qkNorm)
        #expect(config.headDim == 64 && config.groupSize == 7)
        #expect(config.layerSlidingWindows == Array(repeating: nil, count: 24))
        #expect(config.ropeTheta == 1_000_000 && config.tieWordEmbeddings)

        let windowed = try parse("""
            {"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
             "num_key_value_heads": 2, "num_hidden_layers": 4, "vocab_size": 100, "use_sliding_window": true,
             "sliding_window": 1024, "max_window_layers": 2}
            """)
        #expect(windowed.layerSlidingWindows == [nil, nil, 1024, 1024])
        #expect(windowed.bosTokenId == nil && windowed.eosTokenIds.isEmpty)  // Qwen2Config has no token defaults
    }

    @Test func qwen3Transformers5WithLayerTypes() throws {
        let config = try parse("""
            {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "bos_token_id": 151643, "dtype": "bfloat16",
             "eos_token_id": [151645, 151643], "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024,
             "intermediate_size": 3072,
             "layer_types": ["full_attention", "sliding_attention", "full_attention", "sliding_attention"],
             "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
             "num_attention_heads": 16, "num_hidden_layers": 4, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
             "rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"}, "sliding_window": 512,
             "tie_word_embeddings": true, "use_sliding_window": true, "vocab_size": 151936}
            """)
        #expect(config.qkNorm && !config.attentionBias && !config.outputProjectionBias)
        #expect(config.headDim == 128)  // explicit, not hidden / heads = 64
        #expect(config.layerSlidingWindows == [nil, 512, nil, 512])
        #expect(config.ropeTheta == 1_000_000 && config.ropeScaling == .none)
        #expect(config.eosTokenIds == [151_645, 151_643] && config.torchDtype == "bfloat16")
        #expect(config.maxPositionEmbeddings == 40960)
    }

    @Test func qwen3WithYarnRopeScaling() throws {
        // Qwen3's documented YaRN override: {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}.
        let config = try parse("""
            {"model_type": "qwen3", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
             "num_key_value_heads": 2, "head_dim": 16, "num_hidden_layers": 2, "vocab_size": 100, "attention_bias": true,
             "rope_theta": 1000000, "max_position_embeddings": 131072,
             "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}}
            """)
        #expect(config.ropeScaling == .yarn(factor: 4, originalMaxPositionEmbeddings: 32768, betaFast: 32, betaSlow: 1,
                                            attentionFactor: 0.1 * log(4.0) + 1))
        #expect(config.attentionBias && config.outputProjectionBias)
        #expect(config.headDim == 16)
    }

    @Test func legacyRopeScalingTypeKeyAndDynamic() throws {
        let base = #""model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 1, "vocab_size": 10"#
        #expect(try parse("{\(base), \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}}").ropeScaling == .linear(factor: 2))
        #expect(try parse("{\(base), \"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 3}}").ropeScaling == .dynamic(factor: 3))
        #expect(try parse("{\(base), \"rope_scaling\": null}").ropeScaling == .none)

        let error = parseError("{\(base), \"rope_scaling\": {\"rope_type\": \"longrope\", \"factor\": 2.0}}")
        guard case .invalidValue(_, "rope_scaling.rope_type", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: ["config.json", "rope_scaling.rope_type", "longrope", "llama3", "yarn"])

        let missingFactor = parseError("{\(base), \"rope_parameters\": {\"rope_type\": \"linear\", \"rope_theta\": 10000}}")
        guard case .missingField(_, "rope_parameters.factor", "a number")? = missingFactor else {
            Issue.record("got \(String(describing: missingFactor))")
            return
        }
    }

    @Test func integersMayBeWrittenAsFloats() throws {
        let config = try parse("""
            {"model_type": "llama", "hidden_size": 64.0, "intermediate_size": 1.28e2, "num_attention_heads": 4,
             "num_hidden_layers": 2, "vocab_size": 1000, "rope_theta": 1.0e4, "max_position_embeddings": 4096.0}
            """)
        #expect(config.hiddenSize == 64 && config.intermediateSize == 128 && config.maxPositionEmbeddings == 4096)
        #expect(config.ropeTheta == 10_000)
        let error = parseError("""
            {"model_type": "llama", "hidden_size": 64.5, "intermediate_size": 128, "num_attention_heads": 4,
             "num_hidden_layers": 2, "vocab_size": 1000}
            """)
        guard case .wrongType(_, "hidden_size", "an integer", "64.5")? = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test func unsupportedModelTypeListsTheSupportedOnes() {
        let error = parseError(#"{"model_type": "gemma3", "hidden_size": 640}"#)
        guard case .unsupportedModelType(_, "gemma3", ["llama", "mistral", "qwen2", "qwen3"])? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        expectMessage(error, mentions: ["config.json", "\"model_type\"", "gemma3", "llama, mistral, qwen2, qwen3"])
    }

    @Test func missingFieldNamesFileAndKey() {
        let error = parseError(#"{"model_type": "llama", "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 10}"#)
        guard case .missingField(_, "hidden_size", "an integer")? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.description.hasPrefix(#"config.json: missing field "hidden_size" (expected an integer)"#) == true)

        let noType = parseError(#"{"hidden_size": 64}"#)
        guard case .missingField(_, "model_type", "a string")? = noType else { Issue.record("got \(String(describing: noType))"); return }
    }

    @Test func wrongTypeNamesFileKeyExpectedAndGot() {
        let error = parseError("""
            {"model_type": "llama", "hidden_size": "64", "intermediate_size": 128, "num_attention_heads": 4,
             "num_hidden_layers": 2, "vocab_size": 10}
            """)
        guard case .wrongType(_, "hidden_size", "an integer", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.description.hasPrefix(#"config.json: "hidden_size" must be an integer, got a string "64""#) == true)

        let flag = parseError("""
            {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
             "num_hidden_layers": 2, "vocab_size": 10, "tie_word_embeddings": "yes"}
            """)
        guard case .wrongType(_, "tie_word_embeddings", "true or false", _)? = flag else { Issue.record("got \(String(describing: flag))"); return }
    }

    @Test func zeroHeadsIsRefused() {
        let error = parseError("""
            {"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 0,
             "num_hidden_layers": 2, "vocab_size": 10}
            """)
        guard case .invalidValue(_, "num_attention_heads", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.description.hasPrefix(#"config.json: "num_attention_heads" must be positive, got 0"#) == true)
    }

    @Test func headsMustBeAMultipleOfKeyValueHeads() {
        let error = parseError("""
            {"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 128, "num_attention_heads": 14,
             "num_key_value_heads": 4, "num_hidden_layers": 2, "vocab_size": 10}
            """)
        guard case .invalidValue(_, "num_attention_heads", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: ["config.json", "\"num_attention_heads\" (14)", "\"num_key_value_heads\" (4)"])
    }

    @Test func hiddenMustBeAMultipleOfHeadsWithoutHeadDim() throws {
        let error = parseError("""
            {"model_type": "llama", "hidden_size": 100, "intermediate_size": 128, "num_attention_heads": 3,
             "num_hidden_layers": 2, "vocab_size": 10}
            """)
        guard case .invalidValue(_, "hidden_size", _)? = error else { Issue.record("got \(String(describing: error))"); return }
        expectMessage(error, mentions: ["config.json", "\"hidden_size\" (100)", "\"num_attention_heads\" (3)", "head_dim"])
        // With an explicit head_dim the split need not be even.
        #expect(try parse("""
            {"model_type": "llama", "hidden_size": 100, "intermediate_size": 128, "num_attention_heads": 3,
             "head_dim": 32, "num_hidden_layers": 2, "vocab_size": 10}
            """).headDim == 32)
    }

    @Test func otherInvalidValues() {
        let base = #""hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 10"#
        let layerTypes = parseError(#"{"model_type": "qwen3", \#(base), "layer_types": ["full_attention"]}"#)
        guard case .invalidValue(_, "layer_types", _)? = layerTypes else { Issue.record("got \(String(describing: layerTypes))"); return }
        let activation = parseError(#"{"model_type": "llama", \#(base), "hidden_act": "gelu"}"#)
        guard case .invalidValue(_, "hidden_act", _)? = activation else { Issue.record("got \(String(describing: activation))"); return }
        let notJSON = parseError(#"{"model_type": "llama", "#)
        guard case .invalidValue("config.json", "(file)", _)? = notJSON else { Issue.record("got \(String(describing: notJSON))"); return }
        let notObject = parseError("[1]")
        guard case .wrongType("config.json", "(file)", _, _)? = notObject else { Issue.record("got \(String(describing: notObject))"); return }
    }

    /// config.json is read as Python's `json` reads it: a repeated key takes the last value and `NaN` is a number
    /// (refused where a finite one is needed); a syntax error names the line and column.
    @Test func readAsPythonReadsIt() throws {
        let base = #""intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 10"#
        let repeated = try parse(#"{"model_type": "llama", "hidden_size": 64, \#(base), "hidden_size": 128}"#)
        #expect(repeated.hiddenSize == 128)
        let nan = parseError(#"{"model_type": "llama", "hidden_size": 64, \#(base), "rms_norm_eps": NaN}"#)
        guard case .wrongType("config.json", "rms_norm_eps", "a number", "NaN")? = nan else {
            Issue.record("got \(String(describing: nan))")
            return
        }
        let broken = parseError("{\n  \"model_type\": \"llama\",\n  \"hidden_size\" 64\n}")
        expectMessage(broken, mentions: ["config.json", "is not valid JSON", "expected ':' after a key, got '6'", "line 3, column 17"])
    }

    @Test func loadReadsAFileOrADirectory() throws {
        let directory = try TemporaryDirectory()
        let json = #"{"model_type": "mistral", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 10}"#
        try Data(json.utf8).write(to: directory.file("config.json"))
        let fromDirectory = try DecoderConfig.load(from: directory.url)
        #expect(try DecoderConfig.load(from: directory.file("config.json")) == fromDirectory)
        #expect(fromDirectory.layerSlidingWindows == [4096, 4096])  // MistralConfig's default window

        let missing = checkpointError { _ = try DecoderConfig.load(from: directory.file("absent.json")) }
        guard case .io(_, "read", _)? = missing else { Issue.record("got \(String(describing: missing))"); return }
        expectMessage(missing, mentions: ["absent.json"])

        try Data(#"{"model_type": "llama"}"#.utf8).write(to: directory.file("config.json"))
        let error = checkpointError { _ = try DecoderConfig.load(from: directory.url) }
        expectMessage(error, mentions: [directory.file("config.json").path, "\"hidden_size\""])
    }

    @Test func memberwiseInitDefaultsAndValidation() throws {
        let config = DecoderConfig(vocabSize: 32, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2, numAttentionHeads: 4)
        #expect(config.numKeyValueHeads == 4 && config.headDim == 4 && config.layerSlidingWindows == [nil, nil])
        try config.validate()

        var bad = config
        bad.numKeyValueHeads = 3
        let error = checkpointError { try bad.validate(source: "test") }
        guard case .invalidValue("test", "num_attention_heads", _)? = error else { Issue.record("got \(String(describing: error))"); return }
    }
}
