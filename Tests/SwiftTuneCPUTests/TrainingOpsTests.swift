import Foundation
import Testing
@testable import SwiftTuneCPU
import SwiftTuneTensor
import SwiftTuneTestSupport

/// Dropout (a counter-based mask) and AdamW (PyTorch's update order), as f64 kernels and through the f32 backend.
@Suite("Training ops: dropout and AdamW")
struct TrainingOpsTests {
    // MARK: Dropout

    @Test func dropoutKeepsOrScalesEachElementByTheSharedMask() throws {
        let backend = protocolBackend(threadCount: 3)
        var random = SeededGenerator(seed: 51)
        let count = 50_001  // over the threading grain: several chunks
        let x = random.values(count, in: -2...2)
        let (probability, seed): (Float, UInt64) = (0.3, 0x1234_5678_9ABC_DEF0)
        let out = try backend.empty([count])
        try backend.dropout(try backend.f32(x, [count]), probability: probability, seed: seed, into: out)
        let result = try backend.floats(out)
        let threshold = DropoutMask.threshold(probability: probability), scale = DropoutMask.scale(probability: probability)
        var kept = 0
        for i in 0..<count {
            let keep = DropoutMask.keeps(seed: seed, index: i, threshold: threshold)
            let expected: Float = keep ? Float(x[i]) * scale : 0
            guard result[i] == expected else {
                Issue.record("element \(i): got \(result[i]), expected \(expected) (kept: \(keep))")
                return
            }
            kept += keep ? 1 : 0
        }
        // The keep rate is 1 − p within 5 standard deviations (σ ≈ 0.002 here).
        #expect(abs(Double(kept) / Double(count) - 0.7) < 0.011, "kept \(kept) of \(count)")
        #expect(scale == Float(1 / 0.7))
    }

    @Test func dropoutIsDeterministicPerSeedAndIndependentOfThreads() throws {
        var random = SeededGenerator(seed: 52)
        let count = 40_000
        let x = random.values(count)
        func run(threads: Int, seed: UInt64) throws -> [Float] {
            let backend = protocolBackend(threadCount: threads)
            let out = try backend.empty([count])
            try backend.dropout(try backend.f32(x, [count]), probability: 0.5, seed: seed, into: out)
            return try backend.floats(out)
        }
        let first = try run(threads: 1, seed: 9)
        #expect(try run(threads: 3, seed: 9) == first)
        #expect(try run(threads: 2, seed: 9) == first)
        let other = try run(threads: 1, seed: 10)
        let differing = zip(first, other).filter { $0 != $1 }.count
        #expect(differing > count / 3, "seeds 9 and 10 should draw unrelated masks; \(differing) elements differ")
    }

    @Test func dropoutWithZeroProbabilityIsTheIdentityAndWithOneGivesZeros() throws {
        let backend = protocolBackend()
        var random = SeededGenerator(seed: 53)
        let x = random.values(1000, in: -5...5)
        let input = try backend.f32(x, [10, 100])
        let out = try backend.empty([10, 100])
        try backend.dropout(input, probability: 0, seed: 1, into: out)
        #expect(try backend.floats(out) == backend.floats(input), "p = 0 must copy bit for bit")
        try backend.dropout(input, probability: 1, seed: 1, into: out)
        #expect(try backend.floats(out).allSatisfy { $0 == 0 })
        // In place (out aliases x) gives what a separate output gives.
        let separate = try backend.empty([10, 100])
        try backend.dropout(input, probability: 0.25, seed: 77, into: separate)
        try backend.dropout(input, probability: 0.25, seed: 77, into: input)
        #expect(try backend.floats(input) == backend.floats(separate))
    }

    @Test func dropoutBackwardIsTheSameOpOnTheGradient() {
        // L = Σ w ∘ dropout(x) is linear in x, so dL/dx = dropout(w) with the same seed.
        var random = SeededGenerator(seed: 54)
        let count = 37
        let x = random.values(count), w = random.values(count)
        let (threshold, scale) = (DropoutMask.threshold(probability: 0.4), 1 / 0.6)
        func forward(_ input: [Double]) -> [Double] {
            var out = zeros(count)
            CPUKernels.dropout(input, seed: 5, threshold: threshold, scale: scale, into: &out, range: 0..<count)
            return out
        }
        let numeric = numericalGradient(at: x) { weightedSum(w, forward($0)) }
        expectGradient(forward(w), numeric, "dropout dx")
    }

    @Test func dropoutRejectsProbabilitiesOutsideTheUnitInterval() throws {
        let backend = protocolBackend()
        let x = try backend.zeros([4])
        for probability: Float in [-0.1, 1.5, .nan] {
            #expect(throws: TensorError.self) { try backend.dropout(x, probability: probability, seed: 0, into: x) }
        }
    }

    @Test func maskThresholdsAndSeedsAreStable() {
        #expect(DropoutMask.threshold(probability: 0) == 0)
        #expect(DropoutMask.threshold(probability: 1) == 1 << 24)
        #expect(DropoutMask.threshold(probability: 0.5) == 1 << 23)
        // Pinned values: a change to the hash would silently change every mask (and the CUDA kernel's copy of it).
        #expect(DropoutMask.randomBits(seed: 0, index: 0) == 0x01FCE5)
        #expect(DropoutMask.randomBits(seed: 42, index: 7) == DropoutMask.randomBits(seed: 42, index: 7))
        let q = DropoutMask.moduleSeed(step: 1, module: "model.layers.0.self_attn.q_proj")
        let k = DropoutMask.moduleSeed(step: 1, module: "model.layers.0.self_attn.k_proj")
        #expect(q != k)
        #expect(q == DropoutMask.moduleSeed(step: 1, module: "model.layers.0.self_attn.q_proj"))
        #expect(DropoutMask.stepSeed(run: 3, step: 1, microBatch: 0) != DropoutMask.stepSeed(run: 3, step: 1, microBatch: 1))
        #expect(DropoutMask.stepSeed(run: 3, step: 1, microBatch: 0) != DropoutMask.stepSeed(run: 3, step: 2, microBatch: 0))
    }

    // MARK: AdamW

    /// The textbook AdamW (decoupled decay, bias-corrected moments) in f64, which PyTorch's order computes too.
    static func referenceAdamW(parameter: [Double], gradients: [[Double]], learningRate: Double, beta1: Double,
                               beta2: Double, epsilon: Double, weightDecay: Double) -> (p: [Double], m: [Double], v: [Double]) {
        var (p, m, v) = (parameter, zeros(parameter.count), zeros(parameter.count))
        for (index, g) in gradients.enumerated() {
            let t = Double(index + 1)
            for i in p.indices {
                p[i] *= 1 - learningRate * weightDecay
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                let mHat = m[i] / (1 - pow(beta1, t)), vHat = v[i] / (1 - pow(beta2, t))
                p[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
            }
        }
        return (p, m, v)
    }

    @Test func adamWMatchesAHandComputedTwoStepUpdate() throws {
        // p = 1, g = 0.5 then −0.25, lr 0.1, betas (0.9, 0.999), eps 1e-8, wd 0.01. By hand:
        // step 1: p = 1·0.999 − 0.1·(0.05/0.1)/(√(0.00025/0.001) + 1e-8) = 0.899000002, m = 0.05, v = 0.00025
        // step 2: p = 0.899000002·0.999 − 0.1·(0.02/0.19)/(√(0.00031225/0.001999) + 1e-8) = 0.871467298705846,
        //         m = 0.9·0.05 − 0.1·0.25 = 0.02, v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225
        let backend = protocolBackend()
        let p = try backend.tensor([Float(1)], shape: [1]), g = try backend.tensor([0.5], shape: [1])
        let m = try backend.zeros([1]), v = try backend.zeros([1])
        for (step, gradient) in [(1, Float(0.5)), (2, -0.25)] {
            try backend.fill(g, with: gradient)
            try backend.adamW(parameter: p, gradient: g, firstMoment: m, secondMoment: v, learningRate: 0.1, beta1: 0.9,
                              beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: step)
            if step == 1 { #expect(abs(Double(try backend.floats(p)[0]) - 0.899000002) < 1e-7) }
        }
        #expect(abs(Double(try backend.floats(p)[0]) - 0.871467298705846) < 1e-7)
        #expect(abs(Double(try backend.floats(m)[0]) - 0.02) < 1e-9)
        #expect(abs(Double(try backend.floats(v)[0]) - 0.00031225) < 1e-10)
    }

    @Test(arguments: [(0.9, 0.95, 0.1), (0.3, 0.999, 0.0), (0.7, 0.5, 0.01)])
    func adamWKernelMatchesTheTextbookUpdate(beta1: Double, beta2: Double, weightDecay: Double) throws {
        var random = SeededGenerator(seed: 55)
        let count = 30_011
        let parameter = random.values(count, in: -1...1)
        let gradients = (0..<3).map { _ in random.values(count, in: -0.1...0.1) }
        let (lr, eps) = (1e-3, 1e-8)
        let expected = Self.referenceAdamW(parameter: parameter, gradients: gradients, learningRate: lr, beta1: beta1,
                                           beta2: beta2, epsilon: eps, weightDecay: weightDecay)
        // f64 kernel: the same math to rounding.
        var (p, m, v) = (parameter, zeros(count), zeros(count))
        for (index, g) in gradients.enumerated() {
            let c = try AdamWCoefficients(learningRate: lr, beta1: beta1, beta2: beta2, epsilon: eps,
                                          weightDecay: weightDecay, step: index + 1)
            CPUKernels.adamW(parameter: &p, gradient: g, firstMoment: &m, secondMoment: &v, coefficients: c,
                             range: 0..<count)
        }
        expectClose(p, expected.p, tol: 1e-12, "f64 adamW parameter")
        expectClose(m, expected.m, tol: 1e-14, "f64 adamW exp_avg")
        expectClose(v, expected.v, tol: 1e-14, "f64 adamW exp_avg_sq")
        // f32 backend over three threads.
        let backend = protocolBackend(threadCount: 3)
        let tp = try backend.f32(parameter, [count]), tm = try backend.zeros([count]), tv = try backend.zeros([count])
        for (index, g) in gradients.enumerated() {
            try backend.adamW(parameter: tp, gradient: try backend.f32(g, [count]), firstMoment: tm, secondMoment: tv,
                              learningRate: lr, beta1: beta1, beta2: beta2, epsilon: eps, weightDecay: weightDecay,
                              step: index + 1)
        }
        expectClose(try backend.doubles(tp), expected.p, tol: 1e-6, "f32 adamW parameter")
        expectClose(try backend.doubles(tm), expected.m, tol: 1e-6, "f32 adamW exp_avg")
    }

    @Test func adamWRejectsBadArguments() throws {
        let backend = protocolBackend()
        let t = try backend.zeros([3]), short = try backend.zeros([2])
        func step(_ step: Int = 1, beta1: Double = 0.9, gradient: Tensor? = nil) throws {
            try backend.adamW(parameter: t, gradient: gradient ?? t, firstMoment: t, secondMoment: t, learningRate: 1e-3,
                              beta1: beta1, beta2: 0.95, epsilon: 1e-8, weightDecay: 0, step: step)
        }
        #expect(throws: TensorError.self) { try step(0) }
        #expect(throws: TensorError.self) { try step(beta1: 1) }
        #expect(throws: TensorError.self) { try step(gradient: short) }
        #expect(throws: TensorError.self) { try step(gradient: try backend.zeros([3], dtype: .bf16)) }
    }
}
