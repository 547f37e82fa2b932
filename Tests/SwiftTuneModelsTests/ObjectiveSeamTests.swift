import Foundation
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneNN
import SwiftTuneTensor
import Testing
@testable import SwiftTuneModels

/// The seam training objectives stand on: `forward`, `tokenLogProbabilities`, `backward` with per-token gradient
/// weights, and `withAdaptersDisabled` as the LoRA reference model.
@Suite struct ObjectiveSeamTests {
    /// A golden model with trainable LoRA whose B is nonzero, so adapters change outputs and gradients.
    static func adapted(_ family: String) throws -> Golden {
        let golden = try Golden(family)
        try golden.model.attachLoRA(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0), seed: 5, trainable: true)
        try DecoderLoRATests.randomizeB(golden.model, seed: 6)
        return golden
    }

    static func gradients(_ model: DecoderModel) throws -> [[Float]] {
        try model.trainableParameters.map { try model.backend.floats(#require($0.gradient)) }
    }

    /// Per-token weights of 1 give exactly SFT's gradient (the weights are gathered to the scored rows like the
    /// hidden states).
    @Test(arguments: ["qwen2", "qwen3"])
    func unitTokenWeightsGiveTheCrossEntropyGradient(family: String) throws {
        let golden = try Self.adapted(family)
        let (model, backend) = (golden.model, golden.backend)
        let batch = try golden.batch.upload(to: backend)
        let scale = 1 / Float(batch.scoredTokenCount)
        _ = try model.lossAndGradients(batch, gradientScale: scale)
        let expected = try Self.gradients(model)
        for parameter in model.trainableParameters { try parameter.zeroGradient() }
        let ones = try backend.tensor([Float](repeating: 1, count: batch.count), shape: [batch.count])
        _ = try model.backward(model.forward(batch), gradient: LogProbabilityGradient(gradientScale: scale, tokenWeights: ones))
        #expect(try Self.gradients(model) == expected)
    }

    /// A loss that is a nonlinear function of per-sequence log-probabilities, `L = Σ_s (log p_s)² / 10`, through the
    /// two-pass seam (`w_t = −dL/d log p_t = −2 log p_s / 10`), against central finite differences of `L` on the
    /// LoRA factors.
    @Test func twoPassGradientMatchesFiniteDifferences() throws {
        let golden = try Self.adapted("qwen2")
        let (model, backend) = (golden.model, golden.backend)
        let batch = try golden.batch.upload(to: backend)
        let starts = golden.batch.sequenceStarts.map(Int.init)
        func sequenceLogProbabilities(_ perToken: [Float]) -> [Double] {
            (0..<starts.count - 1).map { s in perToken[starts[s]..<starts[s + 1]].reduce(0.0) { $0 + Double($1) } }
        }
        func loss() throws -> Double {
            let perToken = try backend.floats(#require(model.loss(batch, wantLogProbabilities: true).logProbabilities))
            return sequenceLogProbabilities(perToken).reduce(0) { $0 + $1 * $1 } / 10
        }
        let pass = try model.forward(batch)
        let perToken = try backend.floats(#require(model.tokenLogProbabilities(pass).logProbabilities))
        let sequences = sequenceLogProbabilities(perToken)
        var weights = [Float](repeating: 0, count: batch.count)
        for s in 0..<sequences.count { for t in starts[s]..<starts[s + 1] { weights[t] = Float(-2 * sequences[s] / 10) } }
        let weightTensor = try backend.tensor(weights, shape: [batch.count])
        _ = try model.backward(pass, gradient: LogProbabilityGradient(gradientScale: 1, tokenWeights: weightTensor))

        var checked = 0
        for lora in model.loraModules.prefix(6) {
            for parameter in [lora.loraA, lora.loraB] {
                let analytic = try backend.floats(#require(parameter.gradient))
                // The three entries with the largest gradient (well above the f32 noise of the differences).
                let largest = analytic.indices.sorted { abs(analytic[$0]) > abs(analytic[$1]) }.prefix(3)
                for index in largest {
                    var values = try backend.floats(parameter.value)
                    let original = values[index], epsilon: Float = 1e-2
                    values[index] = original + epsilon
                    try backend.copy(backend.tensor(values, shape: parameter.shape), to: parameter.value)
                    let plus = try loss()
                    values[index] = original - epsilon
                    try backend.copy(backend.tensor(values, shape: parameter.shape), to: parameter.value)
                    let minus = try loss()
                    values[index] = original
                    try backend.copy(backend.tensor(values, shape: parameter.shape), to: parameter.value)
                    let numeric = (plus - minus) / (2 * Double(epsilon))
                    let error = abs(numeric - Double(analytic[index])) / max(abs(numeric), 1e-3)
                    #expect(error < 2e-2, "\(parameter.name)[\(index)]: analytic \(analytic[index]), numeric \(numeric)")
                    checked += 1
                }
            }
        }
        #expect(checked == 36)
    }

    /// With adapters disabled the model is its base: the base model's logits bit for bit, and a backward pass made
    /// under it leaves the adapters' gradients at zero; the setting is restored afterwards.
    @Test func adaptersDisabledIsTheBaseModel() throws {
        let base = try Golden("llama")
        let golden = try Self.adapted("llama")
        let (model, backend) = (golden.model, golden.backend)
        let batch = try golden.batch.upload(to: backend)
        let baseLogits = try backend.floats(base.model.logits(batch))
        let adapted = try backend.floats(model.logits(batch))
        #expect(relativeMaxError(baseLogits, adapted) > 1e-3, "the adapters must change the logits")
        let disabled = try model.withAdaptersDisabled { try backend.floats(model.logits(batch)) }
        #expect(disabled == baseLogits)
        #expect(model.adaptersEnabled)
        let pass = try model.withAdaptersDisabled { try model.forward(batch) }
        #expect(!pass.adaptersEnabled)
        _ = try model.backward(pass, gradient: LogProbabilityGradient(gradientScale: 1))
        for lora in model.loraModules {
            #expect(try backend.floats(#require(lora.loraB.gradient)).allSatisfy { $0 == 0 }, "\(lora.moduleName)")
        }
        #expect(try backend.floats(model.logits(batch)) == adapted)
    }

    @Test func theCPUBackendRefusesA16BitPrecision() throws {
        let golden = try Golden("qwen2")
        #expect(throws: ModelError.self) {
            _ = try DecoderModel.randomlyInitialized(config: golden.model.config, backend: golden.backend,
                                                     precision: .bf16, seed: 1)
        }
        #expect(golden.model.precision == .f32)
        #expect(golden.model.parameters.allSatisfy { $0.value.dtype == .f32 })
    }
}
