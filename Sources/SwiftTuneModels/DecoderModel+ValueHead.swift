import SwiftTuneNN
import SwiftTuneTensor

/// The value head's reading of one forward pass: what its backward pass needs.
public struct ValueHeadScores: Sendable {
    /// `[S]` the reward of each sequence (f32, on the host: a reward loss is a function of these few numbers).
    public let rewards: [Float]
    /// i32 `[S]` the position of each sequence's last token in the packed batch.
    let lastRows: Tensor
    /// f32 `[S, D]` the final-norm output at those positions.
    let lastHidden: Tensor
}

/// The reward model's head (HF's `…ForSequenceClassification` with `num_labels = 1`): `score.weight` `[1, D]`, a
/// bias-free linear on the final-norm output, read at each sequence's last token (transformers pools at the last
/// non-padding token; a packed batch has no padding, so that is the token before the next sequence starts).
extension DecoderModel {
    /// Adds the value head, drawn from N(0, `standardDeviation`²) with `seed` (transformers' `initializer_range`
    /// init), f32; with `trainable` it gets a gradient and joins `trainableParameters`.
    public func attachValueHead(seed: UInt64, standardDeviation: Double = 0.02, trainable: Bool) throws {
        var generator = SeededGenerator(seed: seed)
        let values = generator.normals(config.hiddenSize, standardDeviation: standardDeviation)
        let head = Parameter(name: "score.weight", value: try backend.tensor(values, shape: [1, config.hiddenSize]))
        try head.setTrainable(trainable)
        score = head
    }

    /// Takes the value head off (a failed adapter load that added it).
    public func removeValueHead() { score = nil }

    /// The rewards of `pass`'s sequences: `r_s = h[last_s] · score`, `sequenceStarts` the host copy of the batch's
    /// `[S + 1]` boundaries.
    public func valueHeadScores(_ pass: DecoderForwardPass, sequenceStarts: [Int32]) throws -> ValueHeadScores {
        try valueHeadScores(hidden: pass.hidden, sequenceStarts: sequenceStarts)
    }

    /// The rewards read from final-norm outputs `hidden` `[N, D]`.
    func valueHeadScores(hidden normed: Tensor, sequenceStarts: [Int32]) throws -> ValueHeadScores {
        guard let score else {
            throw ModelError.unsupportedConfig(key: "score", value: "absent",
                                               hint: "attach a value head (a reward model) before reading rewards")
        }
        let last = (1..<sequenceStarts.count).map { sequenceStarts[$0] - 1 }
        let rows = try backend.tensor(last, shape: [last.count])
        var hidden = try backend.empty([last.count, config.hiddenSize], dtype: normed.dtype)  // (S, D)
        try backend.embedding(ids: rows, table: normed, into: hidden)
        if hidden.dtype != .f32 {
            let wide = try backend.empty(hidden.shape, dtype: .f32)
            try backend.cast(hidden, to: wide)
            hidden = wide
        }
        let rewards = try backend.empty([last.count, 1], dtype: .f32)  // (S, 1)
        try backend.matmul(hidden, score.value, into: rewards, transposeA: false, transposeB: true, alpha: 1, beta: 0)
        return ValueHeadScores(rewards: try backend.floats(rewards), lastRows: rows, lastHidden: hidden)
    }

    /// The backward pass of a reward loss with `gradient[s] = dL/dr_s`: `d score += gradientᵀ · h_last`, then the
    /// trunk from `dL/dh[last_s] = gradient[s] · score` (zero at every other position).
    public func valueHeadBackward(_ pass: DecoderForwardPass, scores: ValueHeadScores, gradient: [Float]) throws {
        guard let score else {
            throw ModelError.unsupportedConfig(key: "score", value: "absent", hint: "attach a value head first")
        }
        let count = scores.rewards.count
        let g = try backend.tensor(gradient, shape: [count, 1])  // (S, 1)
        if let dScore = score.gradient {
            try backend.matmul(g, scores.lastHidden, into: dScore, transposeA: true, transposeB: false, alpha: 1, beta: 1)
        }
        let dLast = try backend.empty([count, config.hiddenSize], dtype: .f32)  // (S, D)
        try backend.matmul(g, score.value, into: dLast, transposeA: false, transposeB: false, alpha: 1, beta: 0)
        var dHidden = try backend.zeros(pass.hidden.shape, dtype: .f32)  // (N, D)
        try backend.embeddingBackward(ids: scores.lastRows, gradOutput: dLast, into: dHidden)
        if pass.hidden.dtype != .f32 {
            let narrow = try backend.empty(dHidden.shape, dtype: pass.hidden.dtype)
            try backend.cast(dHidden, to: narrow)
            dHidden = narrow
        }
        try backward(pass, hiddenGradient: dHidden)
    }

    /// The rewards of `batch`'s sequences without gradients (`infer` on a reward model).
    public func rewards(_ batch: TokenBatch) throws -> [Float] {
        let device = try batch.upload(to: backend)
        guard let hidden = try hiddenStates(device).last else { return [] }
        return try valueHeadScores(hidden: hidden, sequenceStarts: batch.sequenceStarts).rewards
    }
}
