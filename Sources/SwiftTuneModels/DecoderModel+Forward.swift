import SwiftTuneNN
import SwiftTuneTensor

/// The loss statistics of a forward pass and, after a backward pass, the gradient of its input embeddings.
public struct DecoderLossOutput: Sendable {
    /// f32 `[3]` on the device: Σ −log p(target), scored tokens, tokens whose argmax was the target.
    public let stats: Tensor
    /// f32 `[N]` log p(target) per token, when requested.
    public let logProbabilities: Tensor?
    /// `[N, D]` `dL/d(input embeddings)`, after a backward pass.
    public let gradInputEmbeddings: Tensor?
    /// `[N]` on the host: the softmax entropy (of the scaled logits) at each scored position, NaN elsewhere, when
    /// requested.
    public var entropies: [Float]? = nil

    /// Reads the statistics on the host (an edge: logging): mean loss, scored tokens, token accuracy.
    public func summary() throws -> (loss: Double, tokens: Int, accuracy: Double) {
        let values = try stats.backend.floats(stats)
        let tokens = Double(values[1])
        return (tokens > 0 ? Double(values[0]) / tokens : 0, Int(values[1]), tokens > 0 ? Double(values[2]) / tokens : 0)
    }
}

/// A training forward pass: the final hidden states of every position, and what its backward pass needs.
///
/// A training objective runs `DecoderModel.forward`, reads per-token log-probabilities from the hidden states
/// (`tokenLogProbabilities`) when its loss needs them, and calls `DecoderModel.backward` with the gradient of its loss
/// with respect to each token's log-probability. SFT skips the middle step (`lossAndGradients`).
public struct DecoderForwardPass: Sendable {
    public let batch: DeviceBatch
    /// `[N, D]` (compute dtype): the final-norm output of every position, the lm_head's input.
    public let hidden: Tensor
    /// Whether adapters ran (`withAdaptersDisabled` when the pass was made); its backward pass does the same.
    public let adaptersEnabled: Bool
    let context: LayerContext
    /// `[N, D]`: the last layer's output, the final norm's input.
    let lastLayerOutput: Tensor
    /// f32 `[N]`: the final norm's 1 / rms per row.
    let finalInverseRMS: Tensor
    /// Per layer: its input where it is recomputed in the backward pass (gradient checkpointing), else nil.
    let layerInputs: [Tensor?]
    /// Per layer: its activations where it is not recomputed, else nil.
    let activations: [LayerActivations?]
}

/// The gradient a training objective hands back to the lm_head: `gradientScale · Σ_t w_t · d(−log p_t)`, with
/// `w_t = 1` (the mean cross-entropy of SFT, for `gradientScale = 1 / scored tokens`) or per-token weights.
public struct LogProbabilityGradient: Sendable {
    public var gradientScale: Float
    /// f32 `[N]` over every position of the batch (ignored positions are not read), or nil for `w_t = 1`.
    public var tokenWeights: Tensor?
    /// The log-probabilities are of `logitScale · logits` (GRPO scores at the sampling temperature: 1 / T); the
    /// same scale as the `tokenLogProbabilities` call they came from.
    public var logitScale: Float

    public init(gradientScale: Float, tokenWeights: Tensor? = nil, logitScale: Float = 1) {
        self.gradientScale = gradientScale
        self.tokenWeights = tokenWeights
        self.logitScale = logitScale
    }
}

extension DecoderModel {
    func context(_ batch: DeviceBatch, dropoutSeed: UInt64? = nil) -> LayerContext {
        LayerContext(positions: batch.positions, sequenceStarts: batch.sequenceStarts,
                     inverseFrequencies: inverseFrequencies, attentionScaling: rotary.attentionScaling,
                     dropoutSeed: dropoutSeed, adapters: adaptersEnabled)
    }

    private func embed(_ batch: DeviceBatch) throws -> Tensor {
        let h = try backend.empty([batch.count, config.hiddenSize], dtype: precision.compute)  // (N, D)
        try backend.embedding(ids: batch.inputIds, table: embedTokens.compute, into: h)
        return h
    }

    func finalNorm(_ h: Tensor, inverseRMS: Tensor?) throws -> Tensor {
        let normed = try backend.empty(h.shape, dtype: h.dtype)
        try backend.rmsNorm(h, weight: norm.compute, epsilon: Float(config.rmsNormEps), into: normed, inverseRMS: inverseRMS)
        return normed
    }

    // MARK: Inference

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

    /// Full logits f32 `[N, V]` (for inference and tests; training never materialises them).
    public func logits(_ batch: DeviceBatch) throws -> Tensor {
        let hidden = try hiddenStates(batch).last ?? embed(batch)
        let logits = try backend.empty([batch.count, config.vocabSize], dtype: .f32)
        try backend.matmul(hidden, lmHead.compute, into: logits, transposeA: false, transposeB: true, alpha: 1, beta: 0)
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

    /// Rows `[M, …]` of `values` at the positions that carry a loss, gathered so that the lm_head (a fifth of a small
    /// model's work) skips the prompt tokens of SFT rows; `values` itself when every position (or none) is scored.
    private func scoredRows(_ values: Tensor, _ batch: DeviceBatch) throws -> Tensor {
        guard let rows = batch.scoredRows else { return values }
        let columns = values.count / max(values.size(0), 1)
        let table = try values.reshaped([values.size(0), columns])
        let gathered = try backend.empty([rows.count, columns], dtype: values.dtype)  // (M, D)
        try backend.embedding(ids: rows, table: table, into: gathered)
        return values.rank == 1 ? try gathered.reshaped([rows.count]) : gathered
    }

    /// The final hidden states `[M, D]` and targets `[M]` of the scored positions.
    private func scored(_ hidden: Tensor, _ batch: DeviceBatch) throws -> (Tensor, Tensor) {
        guard batch.scoredRows != nil, let targets = batch.scoredTargets else { return (hidden, batch.targets) }
        return (try scoredRows(hidden, batch), targets)
    }

    // MARK: Training: forward, log-probabilities, backward

    /// `scale · hidden` (a new tensor), or `hidden` itself for scale 1.
    private func scaledHidden(_ hidden: Tensor, _ scale: Float) throws -> Tensor {
        guard scale != 1 else { return hidden }
        let out = try backend.empty(hidden.shape, dtype: hidden.dtype)
        try backend.scale(hidden, by: scale, into: out)
        return out
    }

    /// The forward pass of training: every layer, then the final norm, keeping what `backward` needs (the input of
    /// each recomputed layer under gradient checkpointing, the activations of every other layer).
    ///
    /// - Parameter dropoutSeed: the micro-batch's seed for LoRA dropout (`DropoutMask.stepSeed`); each adapter
    ///   derives its own mask from it and its module name, so recomputed layers draw the same masks. nil draws none.
    public func forward(_ batch: DeviceBatch, dropoutSeed: UInt64? = nil) throws -> DecoderForwardPass {
        let ctx = context(batch, dropoutSeed: dropoutSeed)
        var h = try embed(batch)
        var kept: [LayerActivations?] = [], inputs: [Tensor?] = []
        for (i, layer) in layers.enumerated() {
            let recomputed = recomputes(layer: i)
            inputs.append(recomputed ? h : nil)
            let (output, activations) = try layer.forward(h, context: ctx, keep: !recomputed)
            kept.append(activations)
            h = output
        }
        let finalInverseRMS = try backend.empty([batch.count], dtype: .f32)
        let normed = try finalNorm(h, inverseRMS: finalInverseRMS)
        return DecoderForwardPass(batch: batch, hidden: normed, adaptersEnabled: ctx.adapters, context: ctx,
                                  lastLayerOutput: h, finalInverseRMS: finalInverseRMS, layerInputs: inputs,
                                  activations: kept)
    }

    /// `log p(target)` f32 `[N]` of every position of a forward pass (0 where the target is ignored) and the loss
    /// statistics, without gradients: what an objective's loss is a function of.
    ///
    /// - Parameter logitScale: scores `logitScale · logits` (a softmax temperature of 1 / `logitScale`): the lm_head has
    ///   no bias, so the hidden states are scaled instead.
    /// - Parameter wantEntropies: also the softmax entropy at every scored position (GRPO's `entropy` metric).
    public func tokenLogProbabilities(_ pass: DecoderForwardPass, logitScale: Float = 1,
                                      wantEntropies: Bool = false) throws -> DecoderLossOutput {
        let result = try FusedLinearCrossEntropy(weight: lmHead, chunkSize: lossChunkSize)
            .run(hidden: try scaledHidden(pass.hidden, logitScale), targets: pass.batch.targets, gradientScale: nil,
                 wantLogProbabilities: true,
                 entropyRows: wantEntropies
                    ? try backend.int32s(pass.batch.targets).enumerated().filter { $0.element != TokenBatch.ignoreIndex }.map(\.offset) : nil)
        return DecoderLossOutput(stats: result.stats, logProbabilities: result.logProbabilities, gradInputEmbeddings: nil,
                                 entropies: result.entropies)
    }

    /// The backward pass of `pass` for the loss `gradient.gradientScale · Σ_t w_t · (−log p_t)`: the lm_head and
    /// cross-entropy over the scored positions (chunked; the logits never exist whole), the final norm, every layer
    /// (recomputed with gradient checkpointing), the embeddings. Accumulates into every trainable parameter's gradient
    /// and returns the loss statistics of this pass.
    public func backward(_ pass: DecoderForwardPass, gradient: LogProbabilityGradient) throws -> DecoderLossOutput {
        let batch = pass.batch
        let (unscaledHidden, scoredTargets) = try scored(pass.hidden, batch)
        let scoredHidden = try scaledHidden(unscaledHidden, gradient.logitScale)
        let weights = try gradient.tokenWeights.map { try scoredRows($0, batch) }
        let result = try FusedLinearCrossEntropy(weight: lmHead, chunkSize: lossChunkSize)
            .run(hidden: scoredHidden, targets: scoredTargets, gradientScale: gradient.gradientScale,
                 tokenWeights: weights)
        guard var dNormed = result.gradHidden else {
            throw TensorError.backendFailure(backend: backend.name, call: "DecoderModel.backward", message: "no gradient")
        }
        if gradient.logitScale != 1 {  // d(s·h) / dh = s
            let scaled = try backend.empty(dNormed.shape, dtype: dNormed.dtype)
            try backend.scale(dNormed, by: gradient.logitScale, into: scaled)
            dNormed = scaled
        }
        if let rows = batch.scoredRows {  // back to every position: zero where no loss was taken
            let full = try backend.zeros(pass.hidden.shape, dtype: dNormed.dtype)
            try backend.embeddingBackward(ids: rows, gradOutput: dNormed, into: full)
            dNormed = full
        }
        let dh = try backward(pass, hiddenGradient: dNormed)
        return DecoderLossOutput(stats: result.stats, logProbabilities: nil, gradInputEmbeddings: dh)
    }

    /// The backward pass of `pass` below its head, from `hiddenGradient` `[N, D]` = `dL/d(final-norm output)`: the
    /// final norm, every layer (recomputed with gradient checkpointing), the embeddings. A head other than the lm_head
    /// (the reward model's value head) computes its own part and hands the rest here. Accumulates into every trainable
    /// parameter's gradient; returns `[N, D]` `dL/d(input embeddings)`.
    @discardableResult
    public func backward(_ pass: DecoderForwardPass, hiddenGradient: Tensor) throws -> Tensor {
        let h = pass.lastLayerOutput
        var dh = try backend.empty(h.shape, dtype: h.dtype)
        try backend.rmsNormBackward(h, weight: norm.compute, inverseRMS: pass.finalInverseRMS, gradOutput: hiddenGradient,
                                    into: dh, gradWeight: norm.gradient)
        for (i, layer) in layers.enumerated().reversed() {
            let activations = try pass.layerInputs[i].map { try layer.forward($0, context: pass.context, keep: true).1 }
                ?? pass.activations[i]
            guard let activations else { continue }
            dh = try layer.backward(activations, gradOutput: dh, context: pass.context)
        }
        if let dTable = embedTokens.gradient {
            try backend.embeddingBackward(ids: pass.batch.inputIds, gradOutput: dh, into: dTable)
        }
        return dh
    }

    /// One forward and backward pass of the mean-style cross-entropy: accumulates
    /// `gradientScale · d(Σ token losses)/dθ` into every trainable parameter's gradient. Pass `1 / scoredTokens`
    /// (of the whole accumulated batch) for HF's mean loss. `forward` then `backward` with uniform weights.
    public func lossAndGradients(_ batch: DeviceBatch, gradientScale: Float,
                                 dropoutSeed: UInt64? = nil) throws -> DecoderLossOutput {
        try backward(forward(batch, dropoutSeed: dropoutSeed), gradient: LogProbabilityGradient(gradientScale: gradientScale))
    }
}
