import Testing
import SwiftTuneCPU
@testable import SwiftTuneNN
import SwiftTuneTensor
import SwiftTuneTestSupport

/// A `Linear` with a LoRA side path against a host f64 reference of PEFT's formula
/// `y = x·Wᵀ + b + scale · (dropout(x)·Aᵀ)·Bᵀ`, its gradients against finite differences of that reference.
@Suite("LoRA on Linear")
struct LoRALinearTests {
    static let (tokens, inFeatures, outFeatures, rank) = (5, 7, 6, 3)
    static let moduleName = "model.layers.1.mlp.up_proj"

    /// Random W, b, A, B (B nonzero so every gradient path matters), x and a loss weight w.
    struct Problem {
        let backend = CPUBackend(threadCount: 2)
        var x, weight, bias, a, b, w: [Double]
        let dropout: Float
        let useRSLoRA: Bool
        let alpha = 5.0
        let stepSeed: UInt64 = 0xC0FFEE

        init(dropout: Float, useRSLoRA: Bool, seed: UInt64 = 61) {
            var generator = SeededGenerator(seed: seed)
            let (n, i, o, r) = (LoRALinearTests.tokens, LoRALinearTests.inFeatures, LoRALinearTests.outFeatures,
                                LoRALinearTests.rank)
            x = randomValues(n * i, &generator)
            weight = randomValues(o * i, &generator)
            bias = randomValues(o, &generator)
            a = randomValues(r * i, &generator)
            b = randomValues(o * r, &generator)
            w = randomValues(n * o, &generator)
            self.dropout = dropout
            self.useRSLoRA = useRSLoRA
        }

        var scale: Double { useRSLoRA ? alpha / Double(LoRALinearTests.rank).squareRoot() : alpha / Double(LoRALinearTests.rank) }

        /// The layer on the CPU backend, every parameter trainable.
        func layer() throws -> Linear {
            let (i, o, r) = (LoRALinearTests.inFeatures, LoRALinearTests.outFeatures, LoRALinearTests.rank)
            let name = LoRALinearTests.moduleName
            let lora = try LoRA(moduleName: name,
                                loraA: Parameter(name: name + ".lora_A.weight", value: try backend.tensor(a, [r, i])),
                                loraB: Parameter(name: name + ".lora_B.weight", value: try backend.tensor(b, [o, r])),
                                alpha: alpha, dropout: dropout, useRSLoRA: useRSLoRA)
            let linear = Linear(weight: Parameter(name: name + ".weight", value: try backend.tensor(weight, [o, i])),
                                bias: Parameter(name: name + ".bias", value: try backend.tensor(bias, [o])), lora: lora)
            for parameter in linear.parameters { try parameter.setTrainable(true) }
            return linear
        }

        /// The reference forward in f64, with the mask the layer draws for `stepSeed` (none when nil).
        func reference(x: [Double], weight: [Double], bias: [Double], a: [Double], b: [Double],
                       stepSeed: UInt64?) -> [Double] {
            let (n, i, o, r) = (LoRALinearTests.tokens, LoRALinearTests.inFeatures, LoRALinearTests.outFeatures,
                                LoRALinearTests.rank)
            var dropped = x
            if let stepSeed, dropout > 0 {
                let seed = DropoutMask.moduleSeed(step: stepSeed, module: LoRALinearTests.moduleName)
                let threshold = DropoutMask.threshold(probability: dropout)
                for k in x.indices {
                    dropped[k] = DropoutMask.keeps(seed: seed, index: k, threshold: threshold)
                        ? x[k] * Double(DropoutMask.scale(probability: dropout)) : 0
                }
            }
            let base = Matrix(rows: n, columns: i, values: x).timesTransposed(Matrix(rows: o, columns: i, values: weight))
            let projected = Matrix(rows: n, columns: i, values: dropped).timesTransposed(Matrix(rows: r, columns: i, values: a))
            let side = projected.timesTransposed(Matrix(rows: o, columns: r, values: b))
            return (0..<(n * o)).map { base.values[$0] + bias[$0 % o] + scale * side.values[$0] }
        }

        func loss(x: [Double]? = nil, weight: [Double]? = nil, bias: [Double]? = nil, a: [Double]? = nil,
                  b: [Double]? = nil) -> Double {
            let y = reference(x: x ?? self.x, weight: weight ?? self.weight, bias: bias ?? self.bias, a: a ?? self.a,
                              b: b ?? self.b, stepSeed: stepSeed)
            return zip(w, y).reduce(0) { $0 + $1.0 * $1.1 }
        }
    }

    @Test(arguments: [(Float(0), false), (0.25, false), (0.4, true)])
    func forwardMatchesPEFTsFormula(dropout: Float, useRSLoRA: Bool) throws {
        let problem = Problem(dropout: dropout, useRSLoRA: useRSLoRA)
        let layer = try problem.layer()
        let x = try problem.backend.tensor(problem.x, [Self.tokens, Self.inFeatures])
        let expected = problem.reference(x: problem.x, weight: problem.weight, bias: problem.bias, a: problem.a,
                                         b: problem.b, stepSeed: problem.stepSeed)
        expectRelativelyClose(try problem.backend.doubles(layer.forward(x, dropoutSeed: problem.stepSeed)), expected,
                              tolerance: 1e-5, "training forward (dropout \(dropout), rsLoRA \(useRSLoRA))")
        let evaluation = problem.reference(x: problem.x, weight: problem.weight, bias: problem.bias, a: problem.a,
                                           b: problem.b, stepSeed: nil)
        expectRelativelyClose(try problem.backend.doubles(layer.forward(x)), evaluation, tolerance: 1e-5,
                              "evaluation forward (no dropout)")
        #expect(layer.lora?.scale == problem.scale)
    }

    @Test(arguments: [(Float(0), false), (0.3, false), (0.3, true)])
    func backwardMatchesFiniteDifferences(dropout: Float, useRSLoRA: Bool) throws {
        let problem = Problem(dropout: dropout, useRSLoRA: useRSLoRA)
        let backend = problem.backend
        let layer = try problem.layer()
        let lora = try #require(layer.lora)
        // Gradients accumulate: start dA from a known value and subtract it afterwards.
        let initialA = Array(repeating: 0.5, count: Self.rank * Self.inFeatures)
        try backend.fill(#require(lora.loraA.gradient), with: 0.5)
        let x = try backend.tensor(problem.x, [Self.tokens, Self.inFeatures])
        let dy = try backend.tensor(problem.w, [Self.tokens, Self.outFeatures])
        let dx = try layer.backward(input: x, gradOutput: dy, dropoutSeed: problem.stepSeed)
        let label = "(dropout \(dropout), rsLoRA \(useRSLoRA))"
        expectRelativelyClose(try backend.doubles(dx), numericalGradient(at: problem.x, step: 1e-4) { problem.loss(x: $0) },
                              tolerance: 1e-4, "dx \(label)")
        expectRelativelyClose(try backend.doubles(#require(layer.denseWeight!.gradient)),
                              numericalGradient(at: problem.weight, step: 1e-4) { problem.loss(weight: $0) }, tolerance: 1e-4, "dW \(label)")
        expectRelativelyClose(try backend.doubles(#require(layer.bias?.gradient)),
                              numericalGradient(at: problem.bias, step: 1e-4) { problem.loss(bias: $0) }, tolerance: 1e-4, "db \(label)")
        expectRelativelyClose(zip(try backend.doubles(#require(lora.loraA.gradient)), initialA).map(-),
                              numericalGradient(at: problem.a, step: 1e-4) { problem.loss(a: $0) }, tolerance: 1e-4, "dA \(label)")
        expectRelativelyClose(try backend.doubles(#require(lora.loraB.gradient)),
                              numericalGradient(at: problem.b, step: 1e-4) { problem.loss(b: $0) }, tolerance: 1e-4, "dB \(label)")
    }

    /// The backward of the forward's own input reuses that forward's `u = dropout(x)·Aᵀ`; another input (or another
    /// dropout seed) gets a fresh one. Observed through dB = scale·dyᵀ·u after A changes between the two passes.
    @Test func backwardReusesTheForwardsProjectionOfTheSameInputOnly() throws {
        let problem = Problem(dropout: 0.3, useRSLoRA: false)
        let backend = problem.backend
        let x = try backend.tensor(problem.x, [Self.tokens, Self.inFeatures])
        let dy = try backend.tensor(problem.w, [Self.tokens, Self.outFeatures])
        func dB(forwardSeed: UInt64?, sameInput: Bool, seed: UInt64) throws -> [Double] {
            let layer = try problem.layer()
            let lora = try #require(layer.lora)
            if let forwardSeed { _ = try layer.forward(x, dropoutSeed: forwardSeed) }
            try backend.scale(lora.loraA.value, by: 2, into: lora.loraA.value)  // A changes after the forward
            let input = sameInput ? x : try backend.tensor(problem.x, [Self.tokens, Self.inFeatures])
            _ = try layer.backward(input: input, gradOutput: dy, dropoutSeed: seed)
            return try backend.doubles(#require(lora.loraB.gradient))
        }
        let seed = problem.stepSeed
        let recomputed = try dB(forwardSeed: nil, sameInput: true, seed: seed)  // u from 2·A
        let reused = try dB(forwardSeed: seed, sameInput: true, seed: seed)  // u from A
        expectRelativelyClose(reused.map { 2 * $0 }, recomputed, tolerance: 1e-6, "dB from the forward's u (A, not 2·A)")
        #expect(try dB(forwardSeed: seed, sameInput: false, seed: seed) == recomputed,
                "another input tensor with the same values recomputes u")
        #expect(try dB(forwardSeed: seed + 1, sameInput: true, seed: seed) == recomputed,
                "the same input under another dropout seed recomputes u")
    }

    @Test func backwardWithAccumulateIntoAddsTheSidePath() throws {
        let problem = Problem(dropout: 0.3, useRSLoRA: false)
        let backend = problem.backend
        let x = try backend.tensor(problem.x, [Self.tokens, Self.inFeatures])
        let dy = try backend.tensor(problem.w, [Self.tokens, Self.outFeatures])
        let alone = try backend.doubles(problem.layer().backward(input: x, gradOutput: dy, dropoutSeed: problem.stepSeed))
        let start = try backend.tensor(Array(repeating: 2, count: Self.tokens * Self.inFeatures), [Self.tokens, Self.inFeatures])
        try problem.layer().backward(input: x, gradOutput: dy, accumulateInto: start, dropoutSeed: problem.stepSeed)
        expectRelativelyClose(try backend.doubles(start), alone.map { $0 + 2 }, tolerance: 1e-6, "accumulated dx")
    }

    @Test func mergeGivesTheSameOutputsAndUnmergeRestoresTheWeight() throws {
        let problem = Problem(dropout: 0.2, useRSLoRA: true)
        let backend = problem.backend
        let layer = try problem.layer()
        let x = try backend.tensor(problem.x, [Self.tokens, Self.inFeatures])
        let unmerged = try backend.doubles(layer.forward(x))
        try layer.mergeLoRA()
        #expect(layer.lora?.isMerged == true)
        try layer.mergeLoRA()  // a second merge does nothing
        expectRelativelyClose(try backend.doubles(layer.forward(x)), unmerged, tolerance: 1e-5, "merged forward")
        // Merged: dropout no longer applies, and the weight holds W + scale·B·A.
        expectRelativelyClose(try backend.doubles(layer.forward(x, dropoutSeed: 3)), unmerged, tolerance: 1e-5,
                              "merged forward ignores dropout")
        try layer.unmergeLoRA()
        #expect(layer.lora?.isMerged == false)
        expectRelativelyClose(try backend.doubles(layer.denseWeight!.value), problem.weight, tolerance: 1e-6, "unmerged weight")
    }

    @Test func newAdaptersAreKaimingUniformAndZeroAndDeterministic() throws {
        let backend = CPUBackend(threadCount: 1)
        func make(seed: UInt64) throws -> LoRA {
            var generator = SeededGenerator(seed: seed)
            return try LoRA(moduleName: "m", inFeatures: 400, outFeatures: 30, rank: 8, alpha: 16, dropout: 0,
                            useRSLoRA: false, backend: backend, generator: &generator)
        }
        let lora = try make(seed: 5)
        let a = try backend.floats(lora.loraA.value), bound = 1 / Float(400).squareRoot()
        #expect(lora.loraA.shape == [8, 400] && lora.loraB.shape == [30, 8])
        #expect(a.allSatisfy { abs($0) <= bound })
        #expect((a.map(abs).max() ?? 0) > 0.99 * bound, "draws should span U(−1/√in, 1/√in)")
        #expect(abs(a.reduce(0, +) / Float(a.count)) < 0.05 * bound)
        #expect(try backend.floats(lora.loraB.value).allSatisfy { $0 == 0 })
        #expect(try backend.floats(make(seed: 5).loraA.value) == a)
        #expect(try backend.floats(make(seed: 6).loraA.value) != a)
        #expect(lora.scale == 2)
        #expect(LoRA.scale(rank: 16, alpha: 32, useRSLoRA: true) == 8)
    }

    @Test func mismatchedFactorsAreRejected() throws {
        let backend = CPUBackend(threadCount: 1)
        let a = Parameter(name: "a", value: try backend.zeros([4, 7])), b = Parameter(name: "b", value: try backend.zeros([6, 3]))
        #expect(throws: TensorError.self) {
            try LoRA(moduleName: "m", loraA: a, loraB: b, alpha: 8, dropout: 0, useRSLoRA: false)
        }
    }
}
