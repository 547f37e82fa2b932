import SwiftTuneCheckpoint
import SwiftTuneNN
import SwiftTuneQuantization
import SwiftTuneTensor

/// One weight as a loader hands it to `DecoderModel`: a dense tensor in the model's compute dtype, or (for the
/// weight of a linear layer only) packed blocks that stay packed on the device.
public enum ModelWeight: Sendable {
    case dense(Tensor)
    /// u8 blocks of a `[out, in]` weight in `format`, rows in HF's order.
    case quantized(format: BlockFormat, blocks: Tensor)
    /// A linear layer's weight in bitsandbytes' 4-bit format (QLoRA), on the model's backend.
    case fourBit(FourBitWeightTensors)
}

/// The one generic decoder for Llama 2/3, Mistral, Qwen2/2.5 and Qwen3: embeddings, pre-norm layers, a final
/// RMSNorm and the lm_head (tied to the embeddings or not). Parameter names are HF's checkpoint keys.
///
/// The model code calls only `Backend` ops, so it runs unchanged on any backend; it is built with a `Precision`
/// (activations, frozen weights and the KV cache in `precision.compute`; statistics, log-sum-exps, inverse RMS
/// and log-probabilities in f32). With `Precision.bf16` (PyTorch AMP with peft, as ms-swift runs it): the residual
/// stream between layers is bf16, as in HF's bf16 models; the lm_head writes f32 logits chunks and the
/// cross-entropy is f32; trainable parameters keep f32 masters, gradients and AdamW moments, and ops read their
/// bf16 working copies (`Parameter.compute`), refreshed after each optimizer step; parameter gradients accumulate
/// in f32 from bf16 activations.
public final class DecoderModel: @unchecked Sendable {
    public let config: DecoderConfig
    public let backend: any Backend
    /// The dtypes the model stores and computes in.
    public let precision: Precision
    /// `model.embed_tokens.weight` `[V, D]`
    public let embedTokens: Parameter
    public internal(set) var layers: [DecoderLayer]
    /// `model.norm.weight` `[D]`
    public let norm: Parameter
    /// `lm_head.weight` `[V, D]`; the same object as `embedTokens` when embeddings are tied (until LoRA's
    /// `modules_to_save` unties them, as PEFT does).
    public internal(set) var lmHead: Parameter
    /// `score.weight` `[labels, D]`: the value head of a reward model (HF's `…ForSequenceClassification`), read at each
    /// sequence's last token instead of the lm_head; nil for a language model (`attachValueHead`).
    public internal(set) var score: Parameter?
    public let rotary: RotaryFrequencies
    let inverseFrequencies: Tensor

    /// Recompute each layer in the backward pass instead of keeping its activations (same results, less memory).
    public var gradientCheckpointing = false
    /// With gradient checkpointing, how many layers (the first ones) are recomputed; the layers above keep their
    /// activations, trading their memory for a faster backward (Megatron's block recompute, `--recompute_num_layers`).
    /// nil: every layer is recomputed.
    public var recomputeNumLayers: Int?

    /// Whether layer `index` is recomputed in the backward pass (else its forward keeps its activations).
    func recomputes(layer index: Int) -> Bool {
        index < Self.recomputedLayers(of: layers.count, gradientCheckpointing: gradientCheckpointing,
                                      recomputeNumLayers: recomputeNumLayers)
    }

    /// How many of `layers` (the first ones) the backward pass recomputes: all with gradient checkpointing, or the
    /// first `recomputeNumLayers`; none without.
    public static func recomputedLayers(of layers: Int, gradientCheckpointing: Bool, recomputeNumLayers: Int?) -> Int {
        gradientCheckpointing ? min(layers, recomputeNumLayers ?? layers) : 0
    }

    /// Tokens per chunk of the fused lm_head + cross-entropy (`defaultLossChunkSize`: 256 for a 152k vocabulary).
    public lazy var lossChunkSize = Self.defaultLossChunkSize(vocabulary: config.vocabSize)

    /// The largest power of two from 128 to 1024 whose chunk of logits (f32, plus the bf16 copy of their gradient:
    /// 6 bytes a value) stays within 256 MiB, so a 7B model's lm_head chunk does not outweigh a layer's activations.
    public static func defaultLossChunkSize(vocabulary: Int) -> Int {
        var chunk = 1024
        while chunk > 128, chunk * max(vocabulary, 1) * 6 > 256 << 20 { chunk /= 2 }
        return chunk
    }
    /// The LoRA setup while adapters are attached (`attachLoRA`), else nil.
    public internal(set) var loraConfiguration: LoRAConfiguration?
    /// Whether attached adapters' side paths run (see `withAdaptersDisabled`).
    public private(set) var adaptersEnabled = true

    /// The checkpoint keys and shapes this config needs, in HF's order.
    public static func parameterShapes(for config: DecoderConfig) -> [(name: String, shape: [Int])] {
        let (d, f, hd) = (config.hiddenSize, config.intermediateSize, config.headDim)
        let (q, kv) = (config.numAttentionHeads * hd, config.numKeyValueHeads * hd)
        var shapes: [(String, [Int])] = [("model.embed_tokens.weight", [config.vocabSize, d])]
        for i in 0..<config.numHiddenLayers {
            let p = "model.layers.\(i)."
            shapes.append((p + "input_layernorm.weight", [d]))
            for (name, out) in [("q_proj", q), ("k_proj", kv), ("v_proj", kv)] {
                shapes.append((p + "self_attn.\(name).weight", [out, d]))
                if config.attentionBias { shapes.append((p + "self_attn.\(name).bias", [out])) }
            }
            shapes.append((p + "self_attn.o_proj.weight", [d, q]))
            if config.outputProjectionBias { shapes.append((p + "self_attn.o_proj.bias", [d])) }
            if config.qkNorm {
                shapes.append((p + "self_attn.q_norm.weight", [hd]))
                shapes.append((p + "self_attn.k_norm.weight", [hd]))
            }
            shapes.append((p + "post_attention_layernorm.weight", [d]))
            for (name, shape) in [("gate_proj", [f, d]), ("up_proj", [f, d]), ("down_proj", [d, f])] {
                shapes.append((p + "mlp.\(name).weight", shape))
                if config.mlpBias { shapes.append((p + "mlp.\(name).bias", [shape[0]])) }
            }
        }
        shapes.append(("model.norm.weight", [d]))
        if !config.tieWordEmbeddings { shapes.append(("lm_head.weight", [config.vocabSize, d])) }
        return shapes
    }

    /// Whether checkpoint key `name` is the weight of one of a layer's linear modules (the weights that may stay
    /// quantized).
    public static func isLinearWeight(_ name: String) -> Bool {
        name.hasPrefix("model.layers.") && name.hasSuffix("_proj.weight")
    }

    /// Builds the model from dense weights; `weight(name)` returns the tensor for a checkpoint key on `backend` in
    /// `precision.compute`.
    public convenience init(config: DecoderConfig, backend: any Backend, precision: Precision = .f32,
                            source: String = "checkpoint", weight: (String) throws -> Tensor?) throws {
        try self.init(config: config, backend: backend, precision: precision, source: source,
                      weights: { name in try weight(name).map(ModelWeight.dense) })
    }

    /// Builds the model from a weight source; constructing is loading, so a missing or misshapen weight names
    /// its key. `weights(name)` returns a checkpoint key's weight on `backend`: dense in `precision.compute`, or
    /// quantized blocks for a linear layer's weight.
    public init(config: DecoderConfig, backend: any Backend, precision: Precision = .f32, source: String = "checkpoint",
                weights: (String) throws -> ModelWeight?) throws {
        guard backend.supports(precision) else {
            throw ModelError.unsupportedPrecision(precision: precision.description, backend: backend.name,
                                                  hint: "use --torch_dtype float32 or bfloat16 (float16 needs loss scaling, "
                                                      + "which is not implemented)")
        }
        self.config = config
        self.backend = backend
        self.precision = precision
        var parameters: [String: Parameter] = [:]
        var quantized: [String: QuantizedWeight] = [:]
        var fourBit: [String: FourBitWeight] = [:]
        for (name, shape) in Self.parameterShapes(for: config) {
            guard let loaded = try weights(name) else { throw ModelError.missingWeight(key: name, source: source) }
            switch loaded {
            case let .dense(value):
                guard value.shape == shape else {
                    throw ModelError.weightShapeMismatch(key: name, source: source, expected: shape, got: value.shape)
                }
                guard value.dtype == precision.compute, value.backend === backend else {
                    throw ModelError.unsupportedWeight(key: name, source: source,
                                                       expected: "\(precision.compute) on \(backend.name)",
                                                       got: "\(value.dtype) on \(value.backend.name)")
                }
                parameters[name] = Parameter(name: name, value: value)
            case let .quantized(format, blocks):
                guard Self.isLinearWeight(name) else {
                    throw ModelError.unsupportedWeight(key: name, source: source, expected: "a dense tensor",
                                                       got: "\(format) blocks (only linear layers' weights stay quantized)")
                }
                guard blocks.backend === backend else {
                    throw ModelError.unsupportedWeight(key: name, source: source, expected: "blocks on \(backend.name)",
                                                       got: "blocks on \(blocks.backend.name)")
                }
                quantized[name] = try QuantizedWeight(name: name, shape: shape, format: format, blocks: blocks)
            case let .fourBit(tensors):
                guard Self.isLinearWeight(name) else {
                    throw ModelError.unsupportedWeight(key: name, source: source, expected: "a dense tensor",
                                                       got: "\(tensors.quantType) codes (only linear layers' weights are 4-bit)")
                }
                guard tensors.packed.backend === backend else {
                    throw ModelError.unsupportedWeight(key: name, source: source, expected: "codes on \(backend.name)",
                                                       got: "codes on \(tensors.packed.backend.name)")
                }
                fourBit[name] = try FourBitWeight(name: name, shape: shape, tensors: tensors)
            }
        }
        func p(_ name: String) -> Parameter { parameters[name]! }  // every dense name above was just inserted
        func linear(_ prefix: String, bias: Bool) -> Linear {
            let name = prefix + ".weight"
            let weight: LinearWeight = quantized[name].map(LinearWeight.quantized)
                ?? fourBit[name].map(LinearWeight.fourBit) ?? .dense(p(name))
            return Linear(weight: weight, bias: bias ? p(prefix + ".bias") : nil)
        }
        embedTokens = p("model.embed_tokens.weight")
        norm = p("model.norm.weight")
        lmHead = config.tieWordEmbeddings ? embedTokens : p("lm_head.weight")
        layers = (0..<config.numHiddenLayers).map { i in
            let prefix = "model.layers.\(i)."
            return DecoderLayer(
                inputLayernorm: p(prefix + "input_layernorm.weight"),
                qProj: linear(prefix + "self_attn.q_proj", bias: config.attentionBias),
                kProj: linear(prefix + "self_attn.k_proj", bias: config.attentionBias),
                vProj: linear(prefix + "self_attn.v_proj", bias: config.attentionBias),
                oProj: linear(prefix + "self_attn.o_proj", bias: config.outputProjectionBias),
                qNorm: config.qkNorm ? p(prefix + "self_attn.q_norm.weight") : nil,
                kNorm: config.qkNorm ? p(prefix + "self_attn.k_norm.weight") : nil,
                postAttentionLayernorm: p(prefix + "post_attention_layernorm.weight"),
                gateProj: linear(prefix + "mlp.gate_proj", bias: config.mlpBias),
                upProj: linear(prefix + "mlp.up_proj", bias: config.mlpBias),
                downProj: linear(prefix + "mlp.down_proj", bias: config.mlpBias),
                heads: config.numAttentionHeads, kvHeads: config.numKeyValueHeads, headDim: config.headDim,
                epsilon: Float(config.rmsNormEps),
                slidingWindow: i < config.layerSlidingWindows.count ? config.layerSlidingWindows[i] : nil)
        }
        rotary = try RotaryFrequencies(config: config)
        inverseFrequencies = try backend.tensor(rotary.inverseFrequencies, shape: [rotary.inverseFrequencies.count],
                                                dtype: .f32)
    }

    /// A model with random weights (normal with `standardDeviation`, norms at 1), for tests and benchmarks.
    public static func randomlyInitialized(config: DecoderConfig, backend: any Backend, precision: Precision = .f32,
                                           seed: UInt64, standardDeviation: Double = 0.02) throws -> DecoderModel {
        var generator = SeededGenerator(seed: seed)
        let shapes = Dictionary(uniqueKeysWithValues: parameterShapes(for: config).map { ($0.name, $0.shape) })
        return try DecoderModel(config: config, backend: backend, precision: precision, source: "random init") { name in
            guard let shape = shapes[name] else { return nil }
            let count = shape.reduce(1, *)
            let values: [Float] = name.hasSuffix("norm.weight") ? Array(repeating: 1, count: count)
                : name.hasSuffix(".bias") ? Array(repeating: 0, count: count)
                : generator.normals(count, standardDeviation: standardDeviation)
            return try backend.tensor(values, shape: shape, dtype: precision.compute)
        }
    }

    /// Every distinct parameter, in checkpoint order (a tied lm_head appears once, as the embeddings).
    public var parameters: [Parameter] {
        [embedTokens] + layers.flatMap(\.parameters) + [norm] + (lmHead === embedTokens ? [] : [lmHead])
            + (score.map { [$0] } ?? [])
    }

    /// Marks every parameter trainable (full fine-tuning) or frozen.
    public func setAllTrainable(_ trainable: Bool) throws {
        for parameter in parameters { try parameter.setTrainable(trainable) }
    }

    /// Every parameter count of the model, quantized weights included (for "trainable parameters: x of y").
    public var parameterCount: Int {
        Self.parameterShapes(for: config).reduce(0) { $0 + $1.shape.reduce(1, *) }
            + (lmHead === embedTokens || !config.tieWordEmbeddings ? 0 : lmHead.value.count) + (score?.value.count ?? 0)
    }

    /// Runs `body` with every attached adapter's side path switched off: the base model, as the LoRA reference model
    /// of preference training (one model in memory, as TRL does with peft's `disable_adapter()`). A forward pass
    /// records the setting, so its backward pass (and a recomputed layer) uses the same one.
    public func withAdaptersDisabled<Result>(_ body: () throws -> Result) rethrows -> Result {
        let previous = adaptersEnabled
        adaptersEnabled = false
        defer { adaptersEnabled = previous }
        return try body()
    }
}
