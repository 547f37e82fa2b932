import SwiftTuneTensor

/// AdamW over a fixed list of parameters, as HF Trainer sets up `torch.optim.AdamW`: two parameter groups, with
/// weight decay on every parameter except biases and norm weights (`appliesWeightDecay(toParameterNamed:)`).
///
/// Holds an f32 first and second moment per parameter (zero at the start) and the number of steps taken. When every
/// parameter is trainable and f32 (LoRA factors, full fine-tuning's masters), each group's values, gradients and
/// moments move into flat buffers (`FlatParameterGroup`) and a step is one `Backend.adamW` per group; otherwise one
/// per parameter that has a gradient. Results are the same either way (AdamW is elementwise). The caller supplies
/// the scheduled learning rate, clips gradients before and zeroes them after (`gradientTensors`, `GradientClipping`).
public final class AdamW: @unchecked Sendable {
    public struct Hyperparameters: Sendable, Equatable {
        public var beta1: Double
        public var beta2: Double
        public var epsilon: Double
        /// Decoupled weight decay (`p *= 1 − lr·wd`), for the parameters it applies to.
        public var weightDecay: Double

        /// Defaults are ms-swift's (`--adam_beta1 0.9 --adam_beta2 0.95 --adam_epsilon 1e-8 --weight_decay 0.1`).
        public init(beta1: Double = 0.9, beta2: Double = 0.95, epsilon: Double = 1e-8, weightDecay: Double = 0.1) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    /// The optimized parameters, in the order given (the order state files use).
    public let parameters: [Parameter]
    public var hyperparameters: Hyperparameters
    /// Optimizer steps taken; the next update is step `stepCount + 1`.
    public private(set) var stepCount = 0
    /// `exp_avg` per parameter, f32, same shapes.
    public let firstMoments: [Tensor]
    /// `exp_avg_sq` per parameter, f32, same shapes.
    public let secondMoments: [Tensor]
    /// Whether weight decay applies, per parameter.
    public let decays: [Bool]
    /// The step's scalars on the parameters' backend, f32 `[2, 7]`: row 0 with weight decay, row 1 without.
    private var stepScalars: Tensor?
    /// The flat groups (with decay, without), or empty when the parameters are stepped one by one.
    private let flatGroups: [FlatParameterGroup]

    /// - Parameter parameters: distinct parameters (e.g. `DecoderModel.trainableParameters`) on one backend.
    public init(parameters: [Parameter], hyperparameters: Hyperparameters = Hyperparameters()) throws {
        var seen = Set<ObjectIdentifier>()
        for parameter in parameters where !seen.insert(ObjectIdentifier(parameter)).inserted {
            throw TensorError.invalidArgument(op: "AdamW", reason: "parameter \(parameter.name) is listed twice")
        }
        if let backend = parameters.first?.value.backend,
           let stray = parameters.first(where: { $0.value.backend !== backend }) {
            throw TensorError.invalidArgument(
                op: "AdamW", reason: "parameter \(stray.name) is on \(stray.value.backend.name), the others on \(backend.name)")
        }
        self.parameters = parameters
        self.hyperparameters = hyperparameters
        let decays = parameters.map { Self.appliesWeightDecay(toParameterNamed: $0.name) }
        self.decays = decays
        let groups = try [true, false].map { decay in
            try FlatParameterGroup.make(parameters, members: parameters.indices.filter { decays[$0] == decay },
                                        decays: decay)
        }
        let grouped = groups.compactMap { $0 }.reduce(0) { $0 + $1.members.count }
        if grouped == parameters.count {
            flatGroups = groups.compactMap { $0 }
            var first = [Tensor?](repeating: nil, count: parameters.count)
            var second = first
            for group in flatGroups {
                for (member, moments) in zip(group.members, group.memberMoments) {
                    (first[member], second[member]) = (moments.first, moments.second)
                }
            }
            firstMoments = first.compactMap { $0 }
            secondMoments = second.compactMap { $0 }
        } else {
            // Some parameter is frozen or not f32: leave every parameter where it is (a group moved already keeps
            // its flat buffers as storage, which is harmless) and step them one by one.
            flatGroups = []
            firstMoments = try parameters.map { try $0.value.backend.zeros($0.shape, dtype: .f32) }
            secondMoments = try parameters.map { try $0.value.backend.zeros($0.shape, dtype: .f32) }
        }
    }

    /// The gradients to clip and zero: each flat group's buffer, or every parameter's gradient.
    public var gradientTensors: [Tensor] {
        flatGroups.isEmpty ? parameters.compactMap(\.gradient) : flatGroups.map(\.gradients)
    }

    /// HF Trainer's decay rule (`get_decay_parameter_names`): no decay when the lowercased name contains `bias`,
    /// `layernorm` or `rmsnorm`, has a component `norm`, or a component ending in `_norm`. So embeddings, lm_head,
    /// linear weights and LoRA factors decay; biases and every RMSNorm weight (`input_layernorm`,
    /// `post_attention_layernorm`, `model.norm`, `q_norm`, `k_norm`) do not.
    public static func appliesWeightDecay(toParameterNamed name: String) -> Bool {
        let lowered = name.lowercased()
        if lowered.contains("bias") || lowered.contains("layernorm") || lowered.contains("rmsnorm") { return false }
        let components = lowered.split(separator: ".", omittingEmptySubsequences: false)
        return !components.contains { $0 == "norm" || $0.hasSuffix("_norm") }
    }

    /// One update of every parameter that has a gradient, with learning rate `learningRate` (the schedule's value
    /// for this step). Increments `stepCount` first, as PyTorch does.
    ///
    /// The step's scalars (`AdamWCoefficients`, with and without weight decay) go to the device in one upload of a
    /// `[2, 7]` tensor kept for the next steps, and every parameter's `Backend.adamW` reads its group's row there, so
    /// the launches are the same from step to step.
    public func step(learningRate: Double) throws {
        stepCount += 1
        let updated = parameters.indices.filter { parameters[$0].gradient != nil }
        guard let first = updated.first else { return }
        let h = hyperparameters
        let groups = try [h.weightDecay, 0].map { weightDecay in
            try AdamWCoefficients(learningRate: learningRate, beta1: h.beta1, beta2: h.beta2, epsilon: h.epsilon,
                                  weightDecay: weightDecay, step: stepCount)
        }
        let backend = parameters[first].value.backend
        let scalars = try stepScalars ?? backend.empty([2, AdamWCoefficients.scalarCount])
        stepScalars = scalars
        try groups.flatMap(\.scalars).withUnsafeBytes { try backend.upload($0, to: scalars) }
        let rows = try (0..<2).map { try scalars.rows($0..<($0 + 1)).reshaped([AdamWCoefficients.scalarCount]) }
        for group in flatGroups {
            try backend.adamW(parameter: group.values, gradient: group.gradients, firstMoment: group.firstMoment,
                              secondMoment: group.secondMoment, scalars: rows[group.decays ? 0 : 1])
        }
        for index in updated where flatGroups.isEmpty {
            guard let gradient = parameters[index].gradient else { continue }
            try backend.adamW(parameter: parameters[index].value, gradient: gradient, firstMoment: firstMoments[index],
                              secondMoment: secondMoments[index], scalars: rows[decays[index] ? 0 : 1])
        }
    }

    /// Sets every gradient to zero (after a step).
    public func zeroGradients() throws {
        for gradient in gradientTensors { try gradient.backend.fill(gradient, with: 0) }
    }

    // MARK: State, for resuming

    /// The moments by name, `<parameter name>.exp_avg` and `.exp_avg_sq` (PyTorch's state keys).
    public var stateTensors: [(name: String, tensor: Tensor)] {
        parameters.indices.flatMap { index in
            [(parameters[index].name + ".exp_avg", firstMoments[index]),
             (parameters[index].name + ".exp_avg_sq", secondMoments[index])]
        }
    }

    /// Restores a saved state: `tensor(name)` returns the saved tensor for a `stateTensors` name (nil if absent).
    /// Every name and shape is checked before anything is copied, so a failed load changes nothing.
    public func restoreState(stepCount: Int, tensor: (String) throws -> Tensor?) throws {
        guard stepCount >= 0 else {
            throw TensorError.invalidArgument(op: "AdamW.restoreState", reason: "step count \(stepCount) is negative")
        }
        var loaded: [(source: Tensor, destination: Tensor)] = []
        for (name, destination) in stateTensors {
            guard let source = try tensor(name) else {
                throw TensorError.invalidArgument(op: "AdamW.restoreState",
                                                  reason: "the saved state has no \"\(name)\" (is it for other parameters?)")
            }
            guard source.shape == destination.shape, source.dtype == .f32 else {
                throw TensorError.shapeMismatch(op: "AdamW.restoreState \"\(name)\" (f32)",
                                                expected: "\(destination.shape)", got: source.shape)
            }
            loaded.append((source, destination))
        }
        for (source, destination) in loaded {
            try destination.backend.copy(source, to: destination)
        }
        self.stepCount = stepCount
    }
}
