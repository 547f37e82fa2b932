import SwiftTuneModels
import SwiftTuneTensor

/// One sampled completion as GRPO's loss reads it: the prompt it answers, its tokens (the stop token included), its
/// advantage, and the log-probabilities of its tokens under the sampling policy (`oldLogps`, nil: the current policy
/// detached) and the reference model (`refLogps`, needed when β > 0).
public struct GRPOCompletion: Sendable, Equatable {
    public var promptIDs: [Int32]
    public var completionIDs: [Int32]
    public var advantage: Double
    public var oldLogps: [Double]?
    public var refLogps: [Double]?
    /// false: no loss on it (`--overlong_filter` on a completion cut by the length budget).
    public var inLoss: Bool

    public init(promptIDs: [Int32], completionIDs: [Int32], advantage: Double = 0, oldLogps: [Double]? = nil,
                refLogps: [Double]? = nil, inLoss: Bool = true) {
        self.promptIDs = promptIDs
        self.completionIDs = completionIDs
        self.advantage = advantage
        self.oldLogps = oldLogps
        self.refLogps = refLogps
        self.inLoss = inLoss
    }

    /// Prompt and completion with HF labels: −100 on the prompt, the completion's ids after it.
    var sample: (ids: [Int32], labels: [Int32]) {
        (promptIDs + completionIDs, Array(repeating: TokenBatch.ignoreIndex, count: promptIDs.count) + completionIDs)
    }
}

/// GRPO's passes over the model: the per-token log-probabilities of completions (at the sampling temperature, as
/// TRL divides the logits by it) and one micro-batch's forward, loss and backward pass.
public enum GRPOPolicyStep {
    /// Per completion, the log-probability of each of its tokens under `model` with `logits / temperature`, packed in
    /// one forward pass; with `keepPass`, the pass for a backward pass; with `wantEntropies`, the entropy of the
    /// policy's distribution (at the temperature) at each of those tokens (TRL's `entropies`).
    public static func tokenLogps(model: DecoderModel, completions: [GRPOCompletion], temperature: Double,
                                  dropoutSeed: UInt64? = nil, keepPass: Bool = false, wantEntropies: Bool = false)
        throws -> (logps: [[Double]], pass: DecoderForwardPass?, entropies: [[Double]]?) {
        guard !completions.isEmpty else { return ([], nil, wantEntropies ? [] : nil) }
        if let empty = completions.firstIndex(where: { $0.completionIDs.isEmpty || $0.promptIDs.isEmpty }) {
            throw TrainingError.invalidArgument(flag: "completions", value: "completion \(empty)",
                                                expected: "a non-empty prompt and completion")
        }
        let samples = completions.map(\.sample)
        let batch = try TokenBatch(sequences: samples.map(\.ids), labels: samples.map(\.labels))
        try batch.validate(vocabularySize: model.config.vocabSize)
        let pass = try model.forward(batch.upload(to: model.backend), dropoutSeed: dropoutSeed)
        let output = try model.tokenLogProbabilities(pass, logitScale: Float(1 / temperature), wantEntropies: wantEntropies)
        guard let tensor = output.logProbabilities else {
            throw TrainingError.invalidArgument(flag: "rlhf_type", value: "grpo", expected: "per-token log-probabilities from the model")
        }
        let all = try model.backend.floats(tensor)
        var out: [[Double]] = [], entropies: [[Double]] = []
        for s in completions.indices {
            let range = Int(batch.sequenceStarts[s])..<Int(batch.sequenceStarts[s + 1])
            let scored = range.filter { batch.targets[$0] != TokenBatch.ignoreIndex }
            out.append(scored.map { Double(all[$0]) })
            if let h = output.entropies { entropies.append(scored.map { Double(h[$0]) }) }
        }
        return (out, keepPass ? pass : nil, output.entropies == nil ? nil : entropies)
    }

    /// TRL's `entropy` metric of a micro-batch: the mean per-token entropy over the completion tokens in the loss.
    public static func meanEntropy(_ entropies: [[Double]], completions: [GRPOCompletion]) -> Double {
        let kept = zip(entropies, completions).filter { $0.1.inLoss }.flatMap(\.0)
        return kept.isEmpty ? .nan : kept.reduce(0, +) / Double(kept.count)
    }

    /// The reference log-probabilities: `model` with its adapters off (LoRA's reference), or a separate model.
    public static func referenceLogps(model: DecoderModel, completions: [GRPOCompletion], temperature: Double,
                                      disableAdapters: Bool) throws -> [[Double]] {
        if disableAdapters {
            return try model.withAdaptersDisabled {
                try tokenLogps(model: model, completions: completions, temperature: temperature).logps
            }
        }
        return try tokenLogps(model: model, completions: completions, temperature: temperature).logps
    }

    /// One micro-batch: the forward pass, TRL's loss, and the backward pass accumulating `∂loss/∂θ` into the
    /// trainable parameters. Returns the loss and its metrics.
    public static func accumulate(model: DecoderModel, completions: [GRPOCompletion], options: GRPOLossOptions,
                                  temperature: Double, gradientAccumulationSteps: Int = 1, itemsInBatch: Double? = nil,
                                  dropoutSeed: UInt64? = nil) throws -> GRPOLossResult {
        let (logps, pass, entropies) = try tokenLogps(model: model, completions: completions, temperature: temperature,
                                                      dropoutSeed: dropoutSeed, keepPass: true, wantEntropies: true)
        let scores = zip(completions, logps).map { c, l in
            GRPOCompletionScores(logps: l, oldLogps: c.oldLogps, refLogps: c.refLogps, advantage: c.advantage,
                                 inLoss: c.inLoss)
        }
        for (i, s) in scores.enumerated() {
            for (name, values) in [("old", s.oldLogps), ("reference", s.refLogps)] {
                if let values, values.count != s.logps.count {
                    throw TrainingError.invalidArgument(
                        flag: "completions", value: "completion \(i): \(values.count) \(name) log-probabilities",
                        expected: "one per completion token (\(s.logps.count))")
                }
            }
        }
        if options.beta != 0, let missing = scores.firstIndex(where: { $0.refLogps == nil }) {
            throw TrainingError.invalidArgument(flag: "beta", value: "\(options.beta)",
                                                expected: "reference log-probabilities for every completion (completion \(missing) has none)")
        }
        var result = GRPOLoss.loss(scores, options: options, gradientAccumulationSteps: gradientAccumulationSteps,
                                   itemsInBatch: itemsInBatch)
        if let entropies { result.metrics.append(("entropy", meanEntropy(entropies, completions: completions))) }
        guard let pass else { return result }
        // w_t = −∂loss/∂ log p_t on the completion targets, 0 elsewhere.
        var weights: [Float] = []
        for (c, derivative) in zip(completions, result.tokenDerivatives) {
            // The completion's k-th token is the target of position prompt + k − 1; the last position has none.
            weights += Array(repeating: 0, count: c.promptIDs.count - 1) + derivative.map { Float(-$0) } + [0]
        }
        let weightTensor = try model.backend.tensor(weights, shape: [weights.count], dtype: .f32)
        _ = try model.backward(pass, gradient: LogProbabilityGradient(gradientScale: 1, tokenWeights: weightTensor,
                                                                      logitScale: Float(1 / temperature)))
        return result
    }
}
