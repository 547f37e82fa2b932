import Foundation
import Testing
import SwiftTuneBackendCheck
import SwiftTuneCPU
import SwiftTuneNN
import SwiftTuneTensor
@testable import SwiftTuneModels

/// LoRA on the golden decoders: identity at init, merging, gradients, dropout under checkpointing, and PEFT's
/// module-selection rules.
@Suite("Decoder with LoRA")
struct DecoderLoRATests {
    static let families = ["llama", "qwen2", "qwen3"]
    static let configuration = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0)

    /// Gives every adapter a nonzero B (seeded), so the side paths change outputs and gradients.
    static func randomizeB(_ model: DecoderModel, seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        for lora in model.loraModules {
            let values = generator.normals(lora.loraB.value.count, standardDeviation: 0.05)
            try model.backend.copy(model.backend.tensor(values, shape: lora.loraB.shape), to: lora.loraB.value)
        }
    }

    @Test(arguments: families)
    func newAdaptersLeaveLogitsAndLossUnchanged(family: String) throws {
        let golden = try Golden(family)
        let batch = try golden.batch.upload(to: golden.backend)
        let base = try golden.backend.floats(golden.model.logits(batch))
        let baseLoss = try golden.model.loss(batch).summary().loss
        var configuration = Self.configuration
        configuration.dropout = 0.2
        try golden.model.attachLoRA(configuration, seed: 1)
        #expect(try golden.backend.floats(golden.model.logits(batch)) == base, "B = 0: the side path adds exactly 0")
        // Even with dropout drawn, B = 0 keeps the training loss at the base loss.
        let output = try golden.model.lossAndGradients(batch, gradientScale: 1 / Float(batch.scoredTokenCount),
                                                       dropoutSeed: 99)
        #expect(try output.summary().loss == baseLoss)
    }

    @Test(arguments: families)
    func mergedModelGivesTheUnmergedLogits(family: String) throws {
        let golden = try Golden(family)
        let batch = try golden.batch.upload(to: golden.backend)
        let weightsBefore = try golden.model.parameters.map { try golden.backend.floats($0.value) }
        try golden.model.attachLoRA(Self.configuration, seed: 2, trainable: false)
        try Self.randomizeB(golden.model, seed: 3)
        let unmerged = try golden.backend.floats(golden.model.logits(batch))
        let base = try Golden(family)
        #expect(relativeMaxError(try base.backend.floats(base.model.logits(batch)), unmerged) > 1e-3,
                "the adapters must change the logits for this test to mean anything")
        try golden.model.mergeLoRA()
        expectClose(try golden.backend.floats(golden.model.logits(batch)), unmerged, relativeTolerance: 1e-5,
                    "\(family) merged vs unmerged logits")
        try golden.model.unmergeLoRA()
        for (parameter, before) in zip(golden.model.parameters, weightsBefore) {
            expectClose(try golden.backend.floats(parameter.value), before, relativeTolerance: 1e-6,
                        "\(family) \(parameter.name) after unmerge")
        }
    }

    /// dL/dW does not depend on how W is parametrized, so with `W' = W + s·B·A` the adapter's gradients must be
    /// `dB = s·dW'·Aᵀ` and `dA = s·Bᵀ·dW'`, where dW' comes from full fine-tuning of the merged model. This checks
    /// every module's side path and the input gradients that flow through them to the layers below.
    @Test(arguments: families)
    func adapterGradientsAgreeWithTheMergedWeightGradient(family: String) throws {
        let adapted = try Golden(family)
        let batch = try adapted.batch.upload(to: adapted.backend)
        let scale = 1 / Float(batch.scoredTokenCount)
        try adapted.model.attachLoRA(Self.configuration, seed: 4)
        try Self.randomizeB(adapted.model, seed: 5)
        _ = try adapted.model.lossAndGradients(batch, gradientScale: scale)

        let merged = try Golden(family)
        try merged.model.attachLoRA(Self.configuration, seed: 4)
        try Self.randomizeB(merged.model, seed: 5)
        try merged.model.mergeLoRA()
        merged.model.removeLoRA()
        try merged.model.setAllTrainable(true)
        _ = try merged.model.lossAndGradients(batch, gradientScale: scale)

        let weightGradients = Dictionary(uniqueKeysWithValues: merged.model.linearModules.map { ($0.name, $0.linear) })
        for lora in adapted.model.loraModules {
            let backend = adapted.backend
            let (r, out, inFeatures) = (lora.rank, lora.loraB.shape[0], lora.loraA.shape[1])
            let dW = try backend.floats(#require(weightGradients[lora.moduleName]?.denseWeight?.gradient)).map(Double.init)
            let a = try backend.floats(lora.loraA.value).map(Double.init), b = try backend.floats(lora.loraB.value).map(Double.init)
            var expectedB = [Double](repeating: 0, count: out * r), expectedA = [Double](repeating: 0, count: r * inFeatures)
            for o in 0..<out {
                for k in 0..<r {
                    for i in 0..<inFeatures {
                        expectedB[o * r + k] += lora.scale * dW[o * inFeatures + i] * a[k * inFeatures + i]
                        expectedA[k * inFeatures + i] += lora.scale * b[o * r + k] * dW[o * inFeatures + i]
                    }
                }
            }
            expectClose(try backend.floats(#require(lora.loraB.gradient)), expectedB.map(Float.init),
                        relativeTolerance: 1e-3, "\(family) \(lora.moduleName) dB")
            expectClose(try backend.floats(#require(lora.loraA.gradient)), expectedA.map(Float.init),
                        relativeTolerance: 1e-3, "\(family) \(lora.moduleName) dA")
        }
        #expect(adapted.model.parameters.allSatisfy { !$0.isTrainable }, "the base stays frozen")
    }

    @Test func dropoutMasksAreRedrawnIdenticallyUnderGradientCheckpointing() throws {
        func gradients(checkpointing: Bool, seed: UInt64, recomputeNumLayers: Int? = nil) throws -> [[Float]] {
            let golden = try Golden("qwen3")
            golden.model.recomputeNumLayers = recomputeNumLayers
            var configuration = Self.configuration
            configuration.dropout = 0.3
            try golden.model.attachLoRA(configuration, seed: 6)
            try Self.randomizeB(golden.model, seed: 7)
            golden.model.gradientCheckpointing = checkpointing
            let batch = try golden.batch.upload(to: golden.backend)
            _ = try golden.model.lossAndGradients(batch, gradientScale: 1 / Float(batch.scoredTokenCount), dropoutSeed: seed)
            return try golden.model.trainableParameters.map { try golden.backend.floats(#require($0.gradient)) }
        }
        let plain = try gradients(checkpointing: false, seed: 11)
        #expect(try gradients(checkpointing: true, seed: 11) == plain)
        #expect(try gradients(checkpointing: true, seed: 11, recomputeNumLayers: 1) == plain)
        #expect(try gradients(checkpointing: false, seed: 12) != plain, "another step seed draws other masks")
    }

    // MARK: Choosing modules

    @Test func targetsFollowPEFTsMatchingRules() throws {
        let model = try Golden("llama").model
        func targets(_ configuration: LoRAConfiguration) throws -> [String] {
            try model.loraTargetModules(for: configuration)
        }
        #expect(try targets(LoRAConfiguration()).count == 14, "all-linear: 7 linears × 2 layers, never lm_head")
        #expect(try targets(LoRAConfiguration(targets: .names(["q_proj", "v_proj"]))) == [
            "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
            "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj",
        ])
        #expect(try targets(LoRAConfiguration(targets: .regex(#"model\.layers\.0\.self_attn\.(q|v)_proj"#))) == [
            "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
        ])
        // A regex must match the whole name: `q_proj` alone selects nothing, which is an error.
        #expect(throws: ModelError.self) { try targets(LoRAConfiguration(targets: .regex("q_proj"))) }
        #expect(try targets(LoRAConfiguration(targets: .regex(#".*\.q_proj"#))).count == 2)
        #expect(try targets(LoRAConfiguration(targets: .names(["q_proj"]), layersToTransform: [1])) == [
            "model.layers.1.self_attn.q_proj",
        ])
        // PEFT applies layers_to_transform to suffix matches only, not to a full name.
        #expect(try targets(LoRAConfiguration(targets: .names(["model.layers.0.self_attn.q_proj"]),
                                              layersToTransform: [1])) == ["model.layers.0.self_attn.q_proj"])
        #expect(try targets(LoRAConfiguration(targets: .allLinear, layersToTransform: [0], layersPattern: ["layers"]))
            .allSatisfy { $0.hasPrefix("model.layers.0.") })
        #expect(try targets(LoRAConfiguration(excludeModules: .names(["down_proj"]))).count == 12)
        #expect(try targets(LoRAConfiguration(excludeModules: .regex(#".*\.mlp\..*"#))).count == 8)
        // A module trained in full gets no adapter.
        #expect(try targets(LoRAConfiguration(modulesToSave: ["mlp"])).count == 8)
    }

    @Test func targetingEmbeddingsOrNothingIsAnError() throws {
        let model = try Golden("llama").model
        for targets: ModuleSelector in [.names(["lm_head"]), .names(["embed_tokens"]), .regex(".*"), .names(["w1"])] {
            #expect(throws: ModelError.self, "\(targets)") {
                try model.loraTargetModules(for: LoRAConfiguration(targets: targets))
            }
        }
        // lm_head saved in full is excluded from the regex, but embed_tokens is still selected.
        #expect(throws: ModelError.self) {
            try model.loraTargetModules(for: LoRAConfiguration(targets: .regex(".*"), modulesToSave: ["lm_head"]))
        }
        #expect(throws: ModelError.self) { try model.modulesToSave(for: LoRAConfiguration(modulesToSave: ["wte"])) }
        #expect(throws: ModelError.self) { try model.attachLoRA(LoRAConfiguration(rank: 0), seed: 0) }
    }

    @Test func modulesToSaveAreSuffixesOfModuleNames() throws {
        let model = try Golden("qwen3").model
        #expect(try model.modulesToSave(for: LoRAConfiguration(modulesToSave: ["norm"])) == [
            "model.layers.0.input_layernorm", "model.layers.0.self_attn.q_norm", "model.layers.0.self_attn.k_norm",
            "model.layers.0.post_attention_layernorm", "model.layers.1.input_layernorm", "model.layers.1.self_attn.q_norm",
            "model.layers.1.self_attn.k_norm", "model.layers.1.post_attention_layernorm", "model.norm",
        ])
        #expect(try model.modulesToSave(for: LoRAConfiguration(modulesToSave: ["embed_tokens", "lm_head"]))
            == ["model.embed_tokens", "lm_head"])
        #expect(try model.modulesToSave(for: LoRAConfiguration(modulesToSave: ["layers.1.mlp"])) == [
            "model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj", "model.layers.1.mlp.down_proj",
        ])
    }

    @Test func trainingSetupFreezesTheBaseAndOrdersTrainableParameters() throws {
        let model = try Golden("llama").model
        try model.setAllTrainable(true)
        #expect(model.trainableParameters.map(\.name) == model.parameters.map(\.name), "full fine-tuning: every parameter")
        try model.attachLoRA(LoRAConfiguration(targets: .names(["q_proj", "down_proj"]), modulesToSave: ["embed_tokens"]),
                             seed: 8)
        #expect(model.trainableParameters.map(\.name) == [
            "model.embed_tokens.weight",
            "model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj.lora_B.weight",
            "model.layers.0.mlp.down_proj.lora_A.weight", "model.layers.0.mlp.down_proj.lora_B.weight",
            "model.layers.1.self_attn.q_proj.lora_A.weight", "model.layers.1.self_attn.q_proj.lora_B.weight",
            "model.layers.1.mlp.down_proj.lora_A.weight", "model.layers.1.mlp.down_proj.lora_B.weight",
        ])
        #expect(try model.adapterTensorShapes(for: #require(model.loraConfiguration)).map(\.key)
            == model.adapterParameters().map(\.key))
        #expect(throws: ModelError.self) { try model.attachLoRA(LoRAConfiguration(), seed: 0) }
        model.removeLoRA()
        #expect(model.loraModules.isEmpty && model.loraConfiguration == nil)
        try model.attachLoRA(LoRAConfiguration(), seed: 0)
        #expect(model.loraModules.count == 14)
    }

    @Test func savingATiedModuleUntiesTheCopyAsPEFTDoes() throws {
        let tied = try Golden("qwen2").model
        #expect(tied.lmHead === tied.embedTokens)
        try tied.attachLoRA(LoRAConfiguration(modulesToSave: ["lm_head"]), seed: 9)
        #expect(tied.lmHead !== tied.embedTokens)
        #expect(tied.lmHead.name == "lm_head.weight" && tied.lmHead.isTrainable && !tied.embedTokens.isTrainable)
        #expect(try tied.backend.floats(tied.lmHead.value) == tied.backend.floats(tied.embedTokens.value))
        #expect(try tied.adapterParameters().map(\.key).last == "lm_head.weight")
        #expect(tied.parameters.last?.name == "lm_head.weight")

        let kept = try Golden("qwen2").model
        try kept.attachLoRA(LoRAConfiguration(modulesToSave: ["embed_tokens"], ensureWeightTying: true), seed: 9)
        #expect(kept.lmHead === kept.embedTokens && kept.embedTokens.isTrainable)
    }
}
