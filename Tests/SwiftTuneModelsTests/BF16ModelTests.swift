import Foundation
import Testing
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneNN
import SwiftTuneTensor
@testable import SwiftTuneModels

/// The decoder built with `Precision.bf16` on the CPU (bf16 storage, f32 compute): against the f32 model and HF's
/// f32 goldens within bf16 tolerances, LoRA gradients, a 20-step LoRA loss curve, and full fine-tuning's f32 masters.
///
/// Tolerances: bf16 keeps 8 significant bits (relative rounding 2⁻⁹ ≈ 2e-3 per value), and the tiny goldens round
/// every weight and activation of their layers. Measured on 2026-12-06 (max |bf16 − f32| / max |f32|): logits
/// 0.9–1.3e-2 (the same against HF's f32 goldens), LoRA gradients 0.7–3.6e-2, the 20-step loss curve within 0.15%
/// at every step. Held to: logits 3e-2, LoRA gradients 5e-2, loss curve 0.5%.
@Suite("Decoder in bf16")
struct BF16ModelTests {
    static let families = DecoderGoldenTests.families
    static let logitsTolerance = 3e-2

    /// max |a − e| / max |e|.
    static func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
        relativeMaxError(expected, actual)
    }

    @Test(arguments: families)
    func logitsMatchF32AndTransformersWithinBF16Tolerance(family: String) throws {
        let f32 = try Golden(family), bf16 = try Golden(family, precision: .bf16)
        #expect(bf16.model.parameters.allSatisfy { $0.value.dtype == .bf16 }, "every frozen weight is stored bf16")
        let batch = try bf16.batch.upload(to: bf16.backend)
        let logits = try bf16.model.logits(batch)
        #expect(logits.dtype == .f32, "the lm_head writes f32 logits")
        let (actual, reference) = (try bf16.backend.floats(logits), try f32.backend.floats(f32.model.logits(batch)))
        let toF32 = Self.relativeError(actual, reference)
        expectClose(actual, reference, relativeTolerance: Self.logitsTolerance, "\(family) bf16 vs f32 logits")
        expectClose(actual, try bf16.reference("logits"), relativeTolerance: Self.logitsTolerance,
                    "\(family) bf16 vs HF f32 logits")
        // bf16 really ran: rounding every weight and activation leaves a visible difference.
        #expect(toF32 > 1e-5, "\(family): bf16 logits equal the f32 ones (\(toF32)), so bf16 did not run")
        let hidden = try bf16.model.hiddenStates(batch)
        #expect(hidden.allSatisfy { $0.dtype == .bf16 }, "the residual stream is bf16, as in HF's bf16 models")
    }

    /// Attaches the same adapters (seeded A, seeded nonzero B) to a model of `precision`.
    static func loraModel(_ family: String, precision: Precision) throws -> Golden {
        let golden = try Golden(family, precision: precision)
        try golden.model.attachLoRA(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0), seed: 7)
        var generator = SeededGenerator(seed: 8)
        for lora in golden.model.loraModules {
            let values = generator.normals(lora.loraB.value.count, standardDeviation: 0.05)
            try lora.loraB.assign(golden.backend.tensor(values, shape: lora.loraB.shape))
        }
        return golden
    }

    @Test(arguments: families)
    func loraGradientsMatchF32WithinTolerance(family: String) throws {
        let f32 = try Self.loraModel(family, precision: .f32), bf16 = try Self.loraModel(family, precision: .bf16)
        func gradients(_ golden: Golden) throws -> [(String, [Float])] {
            let batch = try golden.batch.upload(to: golden.backend)
            _ = try golden.model.lossAndGradients(batch, gradientScale: 1 / Float(batch.scoredTokenCount))
            return try golden.model.trainableParameters.map { parameter in
                let gradient = try #require(parameter.gradient)
                #expect(gradient.dtype == .f32 && parameter.value.dtype == .f32, "\(parameter.name): f32 master and gradient")
                return (parameter.name, try golden.backend.floats(gradient))
            }
        }
        let (expected, actual) = (try gradients(f32), try gradients(bf16))
        #expect(expected.count == actual.count && !actual.isEmpty)
        #expect(bf16.model.loraModules.allSatisfy { $0.loraA.compute.dtype == .bf16 && $0.loraB.compute.dtype == .bf16 })
        // A rank-4 factor's gradient sums over every token and the layers above; 5e-2 of its largest entry.
        for ((name, reference), (_, gradient)) in zip(expected, actual) {
            expectClose(gradient, reference, relativeTolerance: 5e-2, "\(family) \(name) bf16 vs f32")
        }
    }

    /// 20 AdamW steps of LoRA on the golden batch; the loss before each step.
    static func lossCurve(_ family: String, precision: Precision) throws -> [Double] {
        let golden = try loraModel(family, precision: precision)
        let model = golden.model
        let optimizer = try AdamW(parameters: model.trainableParameters,
                                  hyperparameters: AdamW.Hyperparameters(weightDecay: 0.01))
        let batch = try golden.batch.upload(to: golden.backend)
        return try (0..<20).map { _ in
            let output = try model.lossAndGradients(batch, gradientScale: 1 / Float(batch.scoredTokenCount))
            try optimizer.step(learningRate: 2e-3)
            try optimizer.zeroGradients()
            return try output.summary().loss
        }
    }

    @Test(arguments: ["llama", "qwen3"])
    func twentyStepLoRALossCurveFollowsF32(family: String) throws {
        let (f32, bf16) = (try Self.lossCurve(family, precision: .f32), try Self.lossCurve(family, precision: .bf16))
        // The curve must move (training happened) and stay within 0.5% of the f32 curve at every step.
        #expect(f32[19] < f32[0] - 0.05, "\(family): the f32 loss did not fall (\(f32.first ?? 0) → \(f32.last ?? 0))")
        for step in 0..<20 {
            let gap = abs(bf16[step] - f32[step]) / f32[step]
            #expect(gap <= 5e-3, "\(family) step \(step + 1): bf16 loss \(bf16[step]) vs f32 \(f32[step]) (\(gap))")
        }
    }

    @Test func fullFineTuningKeepsF32MastersThatMoveBelowBF16Resolution() throws {
        let golden = try Golden("llama", precision: .bf16)
        let model = golden.model, backend = golden.backend
        try model.setAllTrainable(true)
        let parameters = model.trainableParameters
        #expect(parameters.count == model.parameters.count)
        for parameter in parameters {
            #expect(parameter.value.dtype == .f32 && parameter.gradient?.dtype == .f32, "\(parameter.name) master")
            #expect(parameter.compute.dtype == .bf16, "\(parameter.name) reads a bf16 working copy")
        }
        let weight = try #require(model.layers[0].qProj.denseWeight)
        let before = try backend.floats(weight.value)
        #expect(before == (try backend.floats(weight.compute)), "the master starts as the exact widening of the load")

        // AdamW's first step moves each weight by ≈ lr = 1e-5, below half of bf16's spacing (2⁻¹⁵ ≈ 3e-5) for
        // |w| ≥ 2⁻⁷ ≈ 7.8e-3: a bf16 weight would not move, the f32 master does.
        let optimizer = try AdamW(parameters: parameters, hyperparameters: AdamW.Hyperparameters(weightDecay: 0))
        #expect(optimizer.firstMoments.allSatisfy { $0.dtype == .f32 } && optimizer.secondMoments.allSatisfy { $0.dtype == .f32 })
        let batch = try golden.batch.upload(to: backend)
        let learningRate = 1e-5
        _ = try model.lossAndGradients(batch, gradientScale: 1 / Float(batch.scoredTokenCount))
        try optimizer.step(learningRate: learningRate)
        let master = try backend.floats(weight.value), working = try backend.floats(weight.compute)
        let large = before.indices.filter { abs(before[$0]) >= 8e-3 }
        #expect(large.count > before.count / 4, "enough weights above bf16's resolution for the check to mean something")
        let moved = large.filter { master[$0] != before[$0] }
        #expect(moved.count >= large.count * 9 / 10, "the f32 master moves: \(moved.count) of \(large.count)")
        let roundedAway = large.filter { working[$0] == before[$0] }
        #expect(roundedAway.count >= large.count * 9 / 10,
                "an update below bf16's resolution leaves the working copy: \(roundedAway.count) of \(large.count)")
        #expect(master.indices.allSatisfy { working[$0] == FloatBits.float(fromBF16: FloatBits.bf16(from: master[$0])) },
                "the working copy is the master rounded to bf16")
        for (index, moment) in optimizer.secondMoments.enumerated() {
            #expect(try backend.floats(moment).contains { $0 > 0 }, "\(parameters[index].name): f32 second moment filled")
        }
        // Ten more steps of 1e-5 add up in the master to a change the working copy now shows.
        for _ in 0..<10 {
            try optimizer.zeroGradients()
            _ = try model.lossAndGradients(batch, gradientScale: 1 / Float(batch.scoredTokenCount))
            try optimizer.step(learningRate: learningRate)
        }
        let later = try backend.floats(weight.compute)
        #expect(large.filter { later[$0] != before[$0] }.count > large.count / 10,
                "accumulated master updates reach the bf16 working copy")
    }

    @Test(arguments: ["llama", "qwen3"])
    func ggufConvertsToBF16OnLoad(family: String) throws {
        let url = GGUFModelTests.temporaryURL("bf16-\(family)")
        defer { try? FileManager.default.removeItem(at: url) }
        try GGUFModelTests.writeGGUF(from: goldenDirectory.appendingPathComponent(family), to: url)
        let golden = try Golden(family, precision: .bf16)
        let model = try DecoderModel.load(gguf: url, backend: golden.backend, precision: .bf16)
        #expect(model.parameters.allSatisfy { $0.value.dtype == .bf16 })
        let batch = try golden.batch.upload(to: golden.backend)
        let logits = try golden.backend.floats(model.logits(batch))
        expectClose(logits, try golden.reference("logits"), relativeTolerance: Self.logitsTolerance,
                    "\(family) bf16 from GGUF vs HF")
        #expect(logits == (try golden.backend.floats(golden.model.logits(batch))), "GGUF and safetensors load the same bf16 model")
    }

    @Test func kvCacheIsStoredInTheComputeDType() throws {
        let golden = try Golden("qwen2", precision: .bf16)
        let cache = try golden.model.makeKVCacheStorage(blockCount: 2)
        #expect(cache.keys.allSatisfy { $0.dtype == .bf16 } && cache.values.allSatisfy { $0.dtype == .bf16 })
    }

    /// Generation over a bf16 paged cache gives the bf16 model's uncached logits: the two attention kernels differ
    /// in f32 rounding only, which may flip a bf16 rounding here and there (measured ≤ 3.1e-3 of the largest logit).
    @Test(arguments: ["llama", "mistral"])
    func cachedBF16LogitsFollowTheUncachedOnes(family: String) throws {
        let golden = try Golden(family, backend: CPUBackend(threadCount: 2), precision: .bf16)
        try CachedForwardTests.checkAgainstUncached(golden.model, sequences: CachedForwardTests.sequences(golden),
                                                    label: "\(family) bf16", tolerance: 1e-2)
    }
}
