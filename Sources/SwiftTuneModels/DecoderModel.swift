import SwiftTuneCheckpoint
import SwiftTuneNN
import SwiftTuneTensor

/// The loss statistics of a forward pass and, after a backward pass, the gradient of its input embeddings.
public struct DecoderLossOutput: Sendable {
    /// f32 `[3]` on the device: Σ −log p(target), scored tokens, tokens whose argmax was the target.
    public let stats: Tensor
    /// f32 `[N]` log p(target) per token, when requested.
    public let logProbabilities: Tensor?
    /// f32 `[N, D]` `dL/d(input embeddings)`, after `lossAndGradients`.
    public let gradInputEmbeddings: Tensor?

    /// Reads the statistics on the host (an edge: logging): mean loss, scored tokens, token accuracy.
    public func summary() throws -> (loss: Double, tokens: Int, accuracy: Double) {
        let values = try stats.backend.floats(stats)
        let tokens = Double(values[1])
        return (tokens > 0 ? Double(values[0]) / tokens : 0, Int(values[1]), tokens > 0 ? Double(values[2]) / tokens : 0)
    }
}

/// The one generic decoder for Llama 2/3, Mistral, Qwen2/2.5 and Qwen3: embeddings, pre-norm layers, a final
/// RMSNorm and the lm_head (tied to the embeddings or not). Parameter names are HF's checkpoint keys.
///
/// The model code calls only `Backend` ops, so it runs unchanged on any backend.
public final class DecoderModel: @unchecked Sendable {
    public let config: DecoderConfig
    public let backend: any Backend
    /// `model.embed_tokens.weight` `[V, D]`
    public let embedTokens: Parameter
    public internal(set) var layers: [DecoderLayer]
    /// `model.norm.weight` `[D]`
    public let norm: Parameter
    /// `lm_head.weight` `[V, D]`; the same object as `embedTokens` when embeddings are tied (until LoRA's
    /// `modules_to_save` unties them, as PEFT does).
    public internal(set) var lmHead: Parameter
    public let rotary: RotaryFrequencies
    let inverseFrequencies: Tensor

    /// Recompute each layer in the backward pass instead of keeping its activations (same results, less memory).
    public var gradientCheckpointing = false
    /// Tokens per chunk of the fused lm_head + cross-entropy.
    public var lossChunkSize = 1024
    /// The LoRA setup while adapters are attached (`attachLoRA`), else nil.
    public internal(set) var loraConfiguration: LoRAConfiguration?

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

    /// Builds the model from a weight source; constructing is loading, so a missing or misshapen weight names
    /// its key. `weight(name)` returns the f32 tensor for a checkpoint key on `backend`.
    public init(config: DecoderConfig, backend: any Backend, source: String = "checkpoint",
                weight: (String) throws -> Tensor?) throws {
        self.config = config
        self.backend = backend
        var parameters: [String: Parameter] = [:]
        for (name, shape) in Self.parameterShapes(for: config) {
            guard let value = try weight(name) else { throw ModelError.missingWeight(key: name, source: source) }
            guard value.shape == shape else {
                throw ModelError.weightShapeMismatch(key: name, source: source, expected: shape, got: value.shape)
            }
            guard value.dtype == .f32, value.backend === backend else {
                throw TensorError.dtypeMismatch(op: "loading \(name)", expected: "f32 on \(backend.name)", got: value.dtype)
            }
            parameters[name] = Parameter(name: name, value: value)
        }
        func p(_ name: String) -> Parameter { parameters[name]! }  // every name above was just inserted
        func linear(_ prefix: String, bias: Bool) -> Linear {
            Linear(weight: p(prefix + ".weight"), bias: bias ? p(prefix + ".bias") : nil)
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
        inverseFrequencies = try backend.tensor(rotary.inverseFrequencies, shape: [rotary.inverseFrequencies.count])
    }

    /// A model with random weights (normal with `standardDeviation`, norms at 1), for tests and benchmarks.
    public static func randomlyInitialized(config: DecoderConfig, backend: any Backend, seed: UInt64,
                                           standardDeviation: Double = 0.02) throws -> DecoderModel {
        var generator = SeededGenerator(seed: seed)
        let shapes = Dictionary(uniqueKeysWithValues: parameterShapes(for: config).map { ($0.name, $0.shape) })
        return try DecoderModel(config: config, backend: backend, source: "random init") { name in
            guard let shape = shapes[name] else { return nil }
            let count = shape.reduce(1, *)
            let values: [Float] = name.hasSuffix("norm.weight") ? Array(repeating: 1, count: count)
                : name.hasSuffix(".bias") ? Array(repeating: 0, count: count)
                : generator.normals(count, standardDeviation: standardDeviation)
            return try backend.tensor(values, shape: shape)
        }
    }

    /// Every distinct parameter, in checkpoint order (a tied lm_head appears once, as the embeddings).
    public var parameters: [Parameter] {
        [embedTokens] + layers.flatMap(\.parameters) + [norm] + (lmHead === embedTokens ? [] : [lmHead])
    }

    /// Marks every parameter trainable (full fine-tuning) or frozen.
    public func setAllTrainable(_ trainable: Bool) throws {
        for parameter in parameters { try parameter.setTrainable(trainable) }
    }

    // MARK: Forward

    private func context(_ batch: DeviceBatch, dropoutSeed: UInt64? = nil) -> LayerContext {
        LayerContext(positions: batch.positions, sequenceStarts: batch.sequenceStarts,
                     inverseFrequencies: inverseFrequencies, attentionScaling: rotary.attentionScaling,
                     dropoutSeed: dropoutSeed)
    }

    private func embed(_ batch: DeviceBatch) throws -> Tensor {
        let h = try backend.empty([batch.count, config.hiddenSize])  // (N, D)
        try backend.embedding(ids: batch.inputIds, table: embedTokens.value, into: h)
        return h
    }

    func finalNorm(_ h: Tensor, inverseRMS: Tensor?) throws -> Tensor {
        let normed = try backend.empty(h.shape)
        try backend.rmsNorm(h, weight: norm.value, epsilon: Float(config.rmsNormEps), into: normed, inverseRMS: inverseRMS)
        return normed
    }

    /// The hidden states after each stage, HF's `output_hidden_states` order: the embeddings, each layer's
    /// output except the last, then the final-norm output. Each `[N, D]`.
    public func hiddenStates(_ batch: DeviceBatch) throws -> [Tensor] {
        let ctx = context(batch)
        var h = try embed(batch)
        var states = [h]
        for layer in layers {
            h = try layer.forward(h, context: ctx, keep: false).0
            states.append(h)
        }
        states[states.count - 1] = try finalNorm(h, inverseRMS: nil)
        return states
    }

    /// Full logits `[N, V]` (for inference and tests; training never materialises them).
    public func logits(_ batch: DeviceBatch) throws -> Tensor {
        let hidden = try hiddenStates(batch).last ?? embed(batch)
        let logits = try backend.empty([batch.count, config.vocabSize])
        try backend.matmul(hidden, lmHead.value, into: logits, transposeA: false, transposeB: true, alpha: 1, beta: 0)
        return logits
    }

    /// The loss without gradients (evaluation), optionally with per-token log-probabilities.
    public func loss(_ batch: DeviceBatch, wantLogProbabilities: Bool = false) throws -> DecoderLossOutput {
        let hidden = try hiddenStates(batch).last ?? embed(batch)
        let (input, targets) = wantLogProbabilities ? (hidden, batch.targets) : try scored(hidden, batch)
        let result = try FusedLinearCrossEntropy(weight: lmHead, chunkSize: lossChunkSize)
            .run(hidden: input, targets: targets, gradientScale: nil, wantLogProbabilities: wantLogProbabilities)
        return DecoderLossOutput(stats: result.stats, logProbabilities: result.logProbabilities, gradInputEmbeddings: nil)
    }

    /// The final hidden states `[M, D]` and targets `[M]` of the positions that carry a loss, gathered so that
    /// the lm_head (a fifth of a small model's work) skips the prompt tokens of SFT rows; the whole batch when
    /// every position (or none) is scored.
    private func scored(_ hidden: Tensor, _ batch: DeviceBatch) throws -> (Tensor, Tensor) {
        guard let rows = batch.scoredRows, let targets = batch.scoredTargets else { return (hidden, batch.targets) }
        let gathered = try backend.empty([rows.count, hidden.size(1)])  // (M, D)
        try backend.embedding(ids: rows, table: hidden, into: gathered)
        return (gathered, targets)
    }

    // MARK: Forward and backward

    /// One forward and backward pass: accumulates `gradientScale · d(Σ token losses)/dθ` into every trainable
    /// parameter's gradient. Pass `1 / scoredTokens` (of the whole accumulated batch) for HF's mean loss.
    ///
    /// - Parameter dropoutSeed: the micro-batch's seed for LoRA dropout (`DropoutMask.stepSeed`); each adapter
    ///   derives its own mask from it and its module name, so recomputed layers (gradient checkpointing) draw the
    ///   same masks. nil draws no dropout.
    public func lossAndGradients(_ batch: DeviceBatch, gradientScale: Float,
                                 dropoutSeed: UInt64? = nil) throws -> DecoderLossOutput {
        let ctx = context(batch, dropoutSeed: dropoutSeed)
        var h = try embed(batch)
        var kept: [LayerActivations] = [], inputs: [Tensor] = []
        for layer in layers {
            if gradientCheckpointing {
                inputs.append(h)
                h = try layer.forward(h, context: ctx, keep: false).0
            } else {
                let (output, activations) = try layer.forward(h, context: ctx, keep: true)
                if let activations { kept.append(activations) }
                h = output
            }
        }
        let finalInverseRMS = try backend.empty([batch.count])
        let normed = try finalNorm(h, inverseRMS: finalInverseRMS)
        let (scoredHidden, scoredTargets) = try scored(normed, batch)
        let result = try FusedLinearCrossEntropy(weight: lmHead, chunkSize: lossChunkSize)
            .run(hidden: scoredHidden, targets: scoredTargets, gradientScale: gradientScale)
        guard var dNormed = result.gradHidden else {
            throw TensorError.backendFailure(backend: backend.name, call: "lossAndGradients", message: "no gradient")
        }
        if let rows = batch.scoredRows {  // back to every position: zero where no loss was taken
            let full = try backend.zeros(normed.shape)
            try backend.embeddingBackward(ids: rows, gradOutput: dNormed, into: full)
            dNormed = full
        }
        var dh = try backend.empty(h.shape)
        try backend.rmsNormBackward(h, weight: norm.value, inverseRMS: finalInverseRMS, gradOutput: dNormed,
                                    into: dh, gradWeight: norm.gradient)
        for (i, layer) in layers.enumerated().reversed() {
            let activations = gradientCheckpointing
                ? try layer.forward(inputs[i], context: ctx, keep: true).1 : kept[i]
            guard let activations else { continue }
            dh = try layer.backward(activations, gradOutput: dh, context: ctx)
        }
        if let dTable = embedTokens.gradient {
            try backend.embeddingBackward(ids: batch.inputIds, gradOutput: dh, into: dTable)
        }
        return DecoderLossOutput(stats: result.stats, logProbabilities: nil, gradInputEmbeddings: dh)
    }
}
