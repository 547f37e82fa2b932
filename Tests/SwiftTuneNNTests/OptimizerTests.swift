import Foundation
import Testing
import SwiftTuneCPU
@testable import SwiftTuneNN
import SwiftTuneTensor

/// AdamW's parameter groups and steps, gradient clipping, and HF's learning-rate schedules.
@Suite("Optimizer, clipping and schedules")
struct OptimizerTests {
    let backend = CPUBackend(threadCount: 2)

    @Test func weightDecayFollowsHFTrainersParameterGroups() {
        let decays = [
            "model.embed_tokens.weight", "lm_head.weight", "model.layers.0.self_attn.q_proj.weight",
            "model.layers.0.mlp.down_proj.lora_A.weight", "model.layers.3.self_attn.o_proj.lora_B.weight",
        ]
        let doesNot = [
            "model.layers.0.self_attn.q_proj.bias", "model.layers.0.input_layernorm.weight",
            "model.layers.0.post_attention_layernorm.weight", "model.norm.weight", "model.layers.0.self_attn.q_norm.weight",
            "model.layers.0.self_attn.k_norm.weight", "encoder.RMSNorm.weight",
        ]
        for name in decays { #expect(AdamW.appliesWeightDecay(toParameterNamed: name), "\(name) decays") }
        for name in doesNot { #expect(!AdamW.appliesWeightDecay(toParameterNamed: name), "\(name) does not decay") }
        // A component that merely contains "norm" is not a norm.
        #expect(AdamW.appliesWeightDecay(toParameterNamed: "model.normalizer.weight"))
    }

    /// All-trainable f32 parameters move into flat groups (one AdamW, norm and fill launch per group); a frozen one
    /// keeps the per-tensor path. Both give the same updates (up to the norm's summation order).
    @Test func flatGroupsStepLikeOneLaunchPerParameter() throws {
        func make(frozenExtra: Bool) throws -> (AdamW, [Parameter]) {
            var generator = SeededGenerator(seed: 5)
            let shapes: [(String, [Int])] = [("a.lora_A.weight", [3, 7]), ("a.bias", [5]), ("b.lora_B.weight", [70, 3]),
                                             ("model.norm.weight", [1])]
            let parameters = try shapes.map { name, shape in
                Parameter(name: name, value: try backend.tensor(randomValues(shape.reduce(1, *), &generator), shape))
            }
            for parameter in parameters { try parameter.setTrainable(true) }
            let extra = Parameter(name: "frozen.weight", value: try backend.tensor([1, 2], [2]))
            return (try AdamW(parameters: parameters + (frozenExtra ? [extra] : [])), parameters)
        }
        let (flat, flatParameters) = try make(frozenExtra: false)
        let (single, singleParameters) = try make(frozenExtra: true)
        #expect(flat.gradientTensors.count == 2, "one flat gradient buffer per decay group")
        #expect(single.gradientTensors.count == 4)
        var generator = SeededGenerator(seed: 9)
        for step in 1...3 {
            for (a, b) in zip(flatParameters, singleParameters) {
                let gradient = try backend.tensor(randomValues(a.value.count, &generator), a.shape)
                try backend.copy(gradient, to: #require(a.gradient))
                try backend.copy(gradient, to: #require(b.gradient))
            }
            let norms = try [flat, single].map { optimizer in
                try GradientClipping.clipOnDevice(gradients: optimizer.gradientTensors, maxNorm: 0.5)?.norm()
            }
            #expect(abs((norms[0] ?? 0) - (norms[1] ?? 0)) <= 1e-6 * (norms[1] ?? 0), "step \(step) norm \(norms)")
            try flat.step(learningRate: 1e-2)
            try single.step(learningRate: 1e-2)
            try flat.zeroGradients()
            try single.zeroGradients()
            for (a, b) in zip(flatParameters, singleParameters) {
                #expect(try backend.floats(#require(a.gradient)).allSatisfy { $0 == 0 }, "\(a.name) gradient zeroed")
                let (x, y) = (try backend.floats(a.value), try backend.floats(b.value))
                let worst = zip(x, y).map { abs($0 - $1) / max(abs($1), 1e-6) }.max() ?? 0
                #expect(worst <= 1e-5, "step \(step) \(a.name): worst relative difference \(worst)")
            }
        }
        #expect(try backend.floats(flat.firstMoments[2]).count == 210)
    }

    @Test func twoStepsMatchTheTextbookUpdateWithDecayOnlyOnMatrices() throws {
        var generator = SeededGenerator(seed: 71)
        let weightValues = randomValues(12, &generator), biasValues = randomValues(4, &generator)
        let weight = Parameter(name: "layer.weight", value: try backend.tensor(weightValues, [4, 3]))
        let bias = Parameter(name: "layer.bias", value: try backend.tensor(biasValues, [4]))
        let frozen = Parameter(name: "frozen.weight", value: try backend.tensor([1, 2], [2]))
        for parameter in [weight, bias] { try parameter.setTrainable(true) }
        let hyperparameters = AdamW.Hyperparameters(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)
        let optimizer = try AdamW(parameters: [weight, bias, frozen], hyperparameters: hyperparameters)
        #expect(optimizer.decays == [true, false, true])
        var expected = (weightValues, biasValues)
        var moments = (m: (zeros(12), zeros(4)), v: (zeros(12), zeros(4)))
        for (step, learningRate) in [(1, 1e-2), (2, 5e-3)] {
            let gradients = (randomValues(12, &generator), randomValues(4, &generator))
            try backend.copy(backend.tensor(gradients.0, [4, 3]), to: #require(weight.gradient))
            try backend.copy(backend.tensor(gradients.1, [4]), to: #require(bias.gradient))
            try optimizer.step(learningRate: learningRate)
            try optimizer.zeroGradients()
            func update(_ p: inout [Double], _ m: inout [Double], _ v: inout [Double], _ g: [Double], decay: Double) {
                let t = Double(step)
                for i in p.indices {
                    p[i] *= 1 - learningRate * decay
                    m[i] = 0.9 * m[i] + 0.1 * g[i]
                    v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i]
                    p[i] -= learningRate * (m[i] / (1 - pow(0.9, t))) / ((v[i] / (1 - pow(0.95, t))).squareRoot() + 1e-8)
                }
            }
            update(&expected.0, &moments.m.0, &moments.v.0, gradients.0, decay: 0.1)
            update(&expected.1, &moments.m.1, &moments.v.1, gradients.1, decay: 0)
        }
        #expect(optimizer.stepCount == 2)
        expectRelativelyClose(try backend.doubles(weight.value), expected.0, tolerance: 1e-6, "weight after two steps")
        expectRelativelyClose(try backend.doubles(bias.value), expected.1, tolerance: 1e-6, "bias after two steps")
        #expect(try backend.floats(frozen.value) == [1, 2], "a parameter without a gradient is not updated")
        #expect(try backend.floats(#require(weight.gradient)).allSatisfy { $0 == 0 })
    }

    @Test func stateRestoresIntoAFreshOptimizer() throws {
        let weight = Parameter(name: "w", value: try backend.tensor([0.5, -0.5, 1], shape: [3]))
        try weight.setTrainable(true)
        let optimizer = try AdamW(parameters: [weight])
        try backend.fill(#require(weight.gradient), with: 0.25)
        try optimizer.step(learningRate: 1e-3)
        let copy = try AdamW(parameters: [weight])
        let saved = Dictionary(uniqueKeysWithValues: optimizer.stateTensors.map { ($0.name, $0.tensor) })
        #expect(saved.keys.sorted() == ["w.exp_avg", "w.exp_avg_sq"])
        try copy.restoreState(stepCount: optimizer.stepCount) { saved[$0] }
        #expect(copy.stepCount == 1)
        #expect(try backend.floats(copy.firstMoments[0]) == backend.floats(optimizer.firstMoments[0]))
        #expect(try backend.floats(copy.secondMoments[0]) == backend.floats(optimizer.secondMoments[0]))
        #expect(throws: TensorError.self) { try copy.restoreState(stepCount: 1) { _ in nil } }
        #expect(throws: TensorError.self) { try copy.restoreState(stepCount: 1) { _ in try backend.zeros([4]) } }
        #expect(throws: TensorError.self) { try AdamW(parameters: [weight, weight]) }
    }

    // MARK: Clipping

    @Test func clippingScalesEveryGradientByMaxNormOverTheGlobalNorm() throws {
        let a = Parameter(name: "a", value: try backend.zeros([2])), b = Parameter(name: "b", value: try backend.zeros([1]))
        let frozen = Parameter(name: "c", value: try backend.zeros([1]))
        for parameter in [a, b] { try parameter.setTrainable(true) }
        try backend.copy(backend.tensor([Float(3), 4], shape: [2]), to: #require(a.gradient))
        try backend.copy(backend.tensor([Float(12)], shape: [1]), to: #require(b.gradient))
        #expect(try GradientClipping.globalNorm(of: [a, b, frozen]) == 13)
        // max_norm above the norm: nothing changes.
        #expect(try GradientClipping.clip([a, b, frozen], maxNorm: 20) == 13)
        #expect(try backend.floats(#require(a.gradient)) == [3, 4])
        // Below: every gradient is scaled by 1 / (13 + 1e-6), computed in f32 as PyTorch does.
        let norm = try GradientClipping.clip([a, b, frozen], maxNorm: 1)
        #expect(norm == 13, "the pre-clip norm is returned")
        let coefficient = Float(1) / (Float(13) + 1e-6)
        #expect(try backend.floats(#require(a.gradient)) == [3 * coefficient, 4 * coefficient])
        #expect(try backend.floats(#require(b.gradient)) == [12 * coefficient])
        #expect(abs(try GradientClipping.globalNorm(of: [a, b]) - 1) < 1e-6)
        #expect(try GradientClipping.globalNorm(of: [frozen]) == 0)
    }

    @Test func clipOnDeviceEqualsClipBitForBitAndLeavesTheNormOnTheDevice() throws {
        var generator = SeededGenerator(seed: 17)
        let values = [randomValues(300, &generator), randomValues(41, &generator)]
        for maxNorm in [0.5, 1000] {
            func parameters() throws -> [Parameter] {
                try values.enumerated().map { index, gradient in
                    let parameter = Parameter(name: "p\(index)", value: try backend.zeros([gradient.count]))
                    try parameter.setTrainable(true)
                    try backend.copy(backend.tensor(gradient, [gradient.count]), to: #require(parameter.gradient))
                    return parameter
                }
            }
            let (host, device) = (try parameters(), try parameters())
            let norm = try GradientClipping.clip(host, maxNorm: maxNorm)
            let onDevice = try #require(try GradientClipping.clipOnDevice(device, maxNorm: maxNorm))
            #expect(try onDevice.norm() == norm)
            let coefficient = try backend.floats(onDevice.coefficient)[0]
            let expected = Float(maxNorm) / (Float(norm) + 1e-6)
            #expect(coefficient == (expected < 1 ? expected : 1))
            for (a, b) in zip(host, device) {
                #expect(try backend.floats(#require(a.gradient)).map(\.bitPattern)
                    == backend.floats(#require(b.gradient)).map(\.bitPattern), "max norm \(maxNorm)")
            }
        }
        // Nothing to clip without gradients; a negative max norm is refused.
        #expect(try GradientClipping.clipOnDevice([Parameter(name: "x", value: try backend.zeros([1]))], maxNorm: 1) == nil)
        let trainable = Parameter(name: "y", value: try backend.zeros([2]))
        try trainable.setTrainable(true)
        #expect(throws: TensorError.self) { try GradientClipping.clipOnDevice([trainable], maxNorm: -1) }
    }

    @Test func aStepEqualsOneHostScalarAdamWPerParameterBitForBit() throws {
        var generator = SeededGenerator(seed: 23)
        let start = [randomValues(12, &generator), randomValues(4, &generator)]
        let names = ["layer.weight", "layer.bias"]
        let parameters = try zip(names, start).map { name, values in
            let parameter = Parameter(name: name, value: try backend.tensor(values, [values.count]))
            try parameter.setTrainable(true)
            return parameter
        }
        let optimizer = try AdamW(parameters: parameters)
        let reference = try start.map { try backend.tensor($0, [$0.count]) }
        let moments = try start.map { (try backend.zeros([$0.count]), try backend.zeros([$0.count])) }
        let h = optimizer.hyperparameters
        for (step, learningRate) in [(1, 1e-2), (2, 3e-3), (3, 1e-3)] {
            for (index, parameter) in parameters.enumerated() {
                let gradient = try backend.tensor(randomValues(start[index].count, &generator), [start[index].count])
                try backend.copy(gradient, to: #require(parameter.gradient))
                try backend.adamW(parameter: reference[index], gradient: gradient, firstMoment: moments[index].0,
                                  secondMoment: moments[index].1,
                                  learningRate: learningRate, beta1: h.beta1, beta2: h.beta2, epsilon: h.epsilon,
                                  weightDecay: optimizer.decays[index] ? h.weightDecay : 0, step: step)
            }
            try optimizer.step(learningRate: learningRate)
        }
        for (parameter, expected) in zip(parameters, reference) {
            #expect(try backend.floats(parameter.value).map(\.bitPattern) == backend.floats(expected).map(\.bitPattern),
                    "\(parameter.name)")
        }
    }

    @Test func parametersOnTwoBackendsAreRefused() throws {
        let other = CPUBackend(threadCount: 1)
        let a = Parameter(name: "a", value: try backend.zeros([1])), b = Parameter(name: "b", value: try other.zeros([1]))
        #expect(throws: TensorError.self) { try AdamW(parameters: [a, b]) }
    }

    // MARK: Schedules

    /// Values worked out by hand from transformers' lambdas (optimization.py), at several steps.
    @Test func schedulesMatchHFsFormulas() {
        let cosine = LearningRateSchedule(kind: .cosine, baseLearningRate: 1e-3, warmupSteps: 2, totalSteps: 8)
        let expectedCosine: [(Int, Double)] = [
            (0, 0), (1, 0.5), (2, 1),
            (3, 0.5 * (1 + cos(Double.pi / 6))),  // progress 1/6
            (5, 0.5), (6, 0.5 * (1 + cos(Double.pi * 4 / 6))), (8, 0), (10, 0.5 * (1 + cos(Double.pi * 8 / 6))),
        ]
        for (step, multiplier) in expectedCosine {
            #expect(abs(cosine.multiplier(afterSteps: step) - multiplier) < 1e-15, "cosine λ(\(step))")
            #expect(abs(cosine.learningRate(afterSteps: step) - 1e-3 * multiplier) < 1e-18)
        }
        #expect(cosine.multiplier(afterSteps: 3) == 0.9330127018922194)
        let linear = LearningRateSchedule(kind: .linear, baseLearningRate: 2e-4, warmupSteps: 2, totalSteps: 10)
        for (step, multiplier) in [(0, 0.0), (1, 0.5), (2, 1), (6, 0.5), (9, 0.125), (10, 0), (12, 0)] {
            #expect(linear.multiplier(afterSteps: step) == multiplier, "linear λ(\(step))")
        }
        let constant = LearningRateSchedule(kind: .constant, baseLearningRate: 1e-4, warmupSteps: 3, totalSteps: 10)
        #expect([0, 1, 5, 20].allSatisfy { constant.multiplier(afterSteps: $0) == 1 }, "HF's constant ignores warmup")
        let warm = LearningRateSchedule(kind: .constantWithWarmup, baseLearningRate: 1e-4, warmupSteps: 3, totalSteps: 10)
        #expect([0, 1, 2, 3, 9].map { warm.multiplier(afterSteps: $0) } == [0, 1.0 / 3, 2.0 / 3, 1, 1])
        // No warmup: the first update already has the full rate.
        #expect(LearningRateSchedule(kind: .cosine, baseLearningRate: 1, totalSteps: 4).multiplier(afterSteps: 0) == 1)
        #expect(LearningRateSchedule.Kind(rawValue: "constant_with_warmup") == .constantWithWarmup)
    }

    @Test func warmupStepsFollowTransformersAndMsSwift() {
        #expect(LearningRateSchedule.warmupSteps(0.05, totalSteps: 100) == 5)
        #expect(LearningRateSchedule.warmupSteps(0.051, totalSteps: 100) == 6)  // ⌈5.1⌉
        #expect(LearningRateSchedule.warmupSteps(0.1, totalSteps: 8) == 1)  // ⌈0.8⌉
        #expect(LearningRateSchedule.warmupSteps(3, totalSteps: 100) == 3)
        #expect(LearningRateSchedule.warmupSteps(2.7, totalSteps: 100) == 2)
        #expect(LearningRateSchedule.warmupSteps(0, totalSteps: 100) == 0)
        #expect(LearningRateSchedule.warmupSteps(steps: 4, ratio: 0.5, totalSteps: 100) == 4)
        #expect(LearningRateSchedule.warmupSteps(steps: 0, ratio: 0.05, totalSteps: 70) == 4)  // ⌈3.5⌉
    }
}

func zeros(_ count: Int) -> [Double] { Array(repeating: 0, count: count) }
