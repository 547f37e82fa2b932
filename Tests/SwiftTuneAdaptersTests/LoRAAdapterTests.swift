import Foundation
import Testing
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor
@testable import SwiftTuneAdapters

/// The tiny decoders of the golden fixtures (made by scripts/golden/make_decoder_goldens.py).
let goldenDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/golden")

func loadModel(_ family: String, backend: CPUBackend = CPUBackend(threadCount: 2)) throws -> DecoderModel {
    try DecoderModel.load(directory: goldenDirectory.appendingPathComponent(family), backend: backend)
}

/// A fresh temporary directory, removed after `body`.
func withTemporaryDirectory<Result>(_ body: (URL) throws -> Result) throws -> Result {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-adapter-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

/// Gives every adapter factor and saved module seeded values, so a round trip has something to lose.
func randomizeAdapter(_ model: DecoderModel, seed: UInt64) throws {
    var generator = SeededGenerator(seed: seed)
    for (_, parameter) in try model.adapterParameters() {
        let values = generator.normals(parameter.value.count, standardDeviation: 0.05)
        try model.backend.copy(model.backend.tensor(values, shape: parameter.shape), to: parameter.value)
    }
}

@Suite("PEFT adapter files")
struct LoRAAdapterTests {
    static let configuration = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.05, targets: .names(["q_proj", "v_proj"]),
                                                 modulesToSave: ["lm_head"])

    @Test func saveThenLoadRestoresTheAdapterAndItsOutputs() throws {
        try withTemporaryDirectory { directory in
            let model = try loadModel("llama")
            try model.attachLoRA(Self.configuration, seed: 1)
            try randomizeAdapter(model, seed: 2)
            try LoRAAdapter.save(from: model, to: directory, baseModelNameOrPath: "Tests/Fixtures/golden/llama")
            let batch = try TokenBatch(sequences: [[1, 5, 9, 2, 7], [3, 8, 4]]).upload(to: model.backend)
            let expected = try model.backend.floats(model.logits(batch))

            let loaded = try loadModel("llama")
            let config = try LoRAAdapter.load(from: directory, into: loaded)
            #expect(config.lora == Self.configuration)
            #expect(config.baseModelNameOrPath == "Tests/Fixtures/golden/llama")
            let original = try model.adapterParameters(), restored = try loaded.adapterParameters()
            #expect(original.map(\.key) == restored.map(\.key))
            for (a, b) in zip(original, restored) {
                #expect(try model.backend.floats(a.parameter.value) == loaded.backend.floats(b.parameter.value), "\(a.key)")
            }
            #expect(try loaded.backend.floats(loaded.logits(batch)) == expected)
            #expect(loaded.trainableParameters.isEmpty, "loading for inference leaves trainability alone")
            let resumed = try loadModel("llama")
            try LoRAAdapter.load(from: directory, into: resumed, trainable: true)
            #expect(resumed.trainableParameters.count == 8 + 1, "4 adapters × (A, B) and lm_head")
        }
    }

    @Test func tensorsUsePEFTsKeyNames() throws {
        try withTemporaryDirectory { directory in
            let model = try loadModel("qwen2")
            try model.attachLoRA(LoRAConfiguration(rank: 2, targets: .regex(#"model\.layers\.1\.mlp\.(up|down)_proj"#),
                                                   modulesToSave: ["embed_tokens"]), seed: 3)
            try LoRAAdapter.save(from: model, to: directory, baseModelNameOrPath: nil)
            let file = try SafetensorsFile(url: directory.appendingPathComponent("adapter_model.safetensors"))
            #expect(file.names.sorted() == [
                "base_model.model.model.embed_tokens.weight",
                "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight",
                "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight",
                "base_model.model.model.layers.1.mlp.up_proj.lora_A.weight",
                "base_model.model.model.layers.1.mlp.up_proj.lora_B.weight",
            ])
            #expect(file.metadata == ["format": "pt"])
            #expect(try file.info("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight").shape == [2, 128])
            #expect(try file.info("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight").shape == [64, 2])
            #expect(try file.info("base_model.model.model.layers.1.mlp.up_proj.lora_A.weight").dtype == .f32)
            let config = try LoRAAdapter.loadConfig(from: directory)
            #expect(config.lora.targets == .regex(#"model\.layers\.1\.mlp\.(up|down)_proj"#))
            #expect(config.baseModelNameOrPath == nil)
        }
    }

    @Test func configIsWrittenAsPEFTWritesIt() throws {
        try withTemporaryDirectory { directory in
            let model = try loadModel("llama")
            try model.attachLoRA(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.05), seed: 4)
            try LoRAAdapter.save(from: model, to: directory, baseModelNameOrPath: "meta-llama/Llama-3.2-1B")
            let text = try String(contentsOf: directory.appendingPathComponent("adapter_config.json"), encoding: .utf8)
            #expect(text.hasPrefix("{\n  \"alora_invocation_tokens\": null,\n  \"alpha_pattern\": {},\n  \"arrow_config\": null,\n"))
            #expect(text.hasSuffix("\n  \"use_rslora\": false,\n  \"velora_config\": null\n}"), "no trailing newline")
            for line in ["  \"base_model_name_or_path\": \"meta-llama/Llama-3.2-1B\",", "  \"bias\": \"none\",",
                         "  \"inference_mode\": true,", "  \"lora_alpha\": 8,", "  \"lora_dropout\": 0.05,",
                         "  \"modules_to_save\": null,", "  \"peft_type\": \"LORA\",", "  \"r\": 4,",
                         "  \"task_type\": \"CAUSAL_LM\",", "  \"loftq_config\": {},", "  \"megatron_core\": \"megatron.core\","] {
                #expect(text.contains(line + "\n"), "missing line \(line)")
            }
            // all-linear is written as ms-swift writes its expansion: the module suffixes, sorted.
            #expect(text.contains("""
                  "target_modules": [
                    "down_proj",
                    "gate_proj",
                    "k_proj",
                    "o_proj",
                    "q_proj",
                    "up_proj",
                    "v_proj"
                  ],
                """))
            let keys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
            #expect(keys == keys.sorted(), "keys are sorted")
            #expect(Set(keys).isSuperset(of: ["r", "lora_alpha", "lora_dropout", "target_modules", "use_rslora", "modules_to_save",
                                              "bias", "fan_in_fan_out", "init_lora_weights", "peft_version", "layers_to_transform"]))
        }
    }

    @Test func readsConfigsAsPEFTAndMsSwiftWriteThem() throws {
        func parse(_ json: String) throws -> LoRAConfiguration {
            try AdapterConfig(json: Data(json.utf8), path: "adapter_config.json").lora
        }
        // target_modules as a regex (ms-swift's --target_regex), layers given as one integer, unknown keys ignored.
        let regex = try parse("""
            {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 16, "lora_alpha": 32, "lora_dropout": 0.1,
             "target_modules": "^(model\\\\.layers\\\\.\\\\d+\\\\.self_attn\\\\.(q|k)_proj)$", "use_rslora": true,
             "modules_to_save": ["embed_tokens"], "bias": "none", "fan_in_fan_out": false, "use_dora": false,
             "rank_pattern": {}, "alpha_pattern": {}, "layers_to_transform": 3, "layers_pattern": "layers",
             "some_future_option": {"x": 1}, "peft_version": "0.21.0", "inference_mode": true}
            """)
        #expect(regex == LoRAConfiguration(rank: 16, alpha: 32, dropout: 0.1, useRSLoRA: true,
                                            targets: .regex(#"^(model\.layers\.\d+\.self_attn\.(q|k)_proj)$"#),
                                            layersToTransform: [3], layersPattern: ["layers"], modulesToSave: ["embed_tokens"]))
        let model = try loadModel("llama")
        #expect(try model.loraTargetModules(for: regex).count == 4)
        // A list, as PEFT writes an expanded all-linear (full names on tiny models, suffixes on large ones).
        let list = try parse("""
            {"peft_type": "LORA", "r": 8, "lora_alpha": 16,
             "target_modules": ["model.layers.0.mlp.up_proj", "o_proj"], "exclude_modules": "model\\\\.layers\\\\.1\\\\..*"}
            """)
        #expect(list.targets == .names(["model.layers.0.mlp.up_proj", "o_proj"]))
        #expect(try model.loraTargetModules(for: list) == ["model.layers.0.self_attn.o_proj", "model.layers.0.mlp.up_proj"])
        #expect(try parse(#"{"r": 4, "target_modules": "all-linear"}"#).targets == .allLinear)
        #expect(try parse(#"{"r": 4, "target_modules": ["q_proj"]}"#).alpha == 8, "PEFT's default lora_alpha")
        // A reward model's adapter (SEQ_CLS): PEFT's `classifier` is dropped, `score` (the value head) trains in full.
        let seqCls = try AdapterConfig(json: Data(#"{"r": 4, "target_modules": ["q_proj"], "task_type": "SEQ_CLS", "modules_to_save": ["classifier", "score"]}"#.utf8),
                                       path: "adapter_config.json")
        #expect(seqCls.taskType == .sequenceClassification && seqCls.lora.modulesToSave == ["score"])
        #expect(seqCls.json(moduleSuffixes: ["q_proj"]).contains("\"task_type\": \"SEQ_CLS\""))
        #expect(seqCls.json(moduleSuffixes: ["q_proj"]).contains("\"modules_to_save\": [\n    \"classifier\",\n    \"score\"\n  ]"))
    }

    @Test(arguments: [
        (#"{"r": 4, "target_modules": ["q_proj"], "bias": "all"}"#, "bias"),
        (#"{"r": 4, "target_modules": ["q_proj"], "use_dora": true}"#, "use_dora"),
        (#"{"r": 4, "target_modules": ["q_proj"], "rank_pattern": {"q_proj": 8}}"#, "rank_pattern"),
        (#"{"r": 4, "target_modules": ["q_proj"], "peft_type": "PREFIX_TUNING"}"#, "peft_type"),
        (#"{"r": 4, "target_modules": ["q_proj"], "task_type": "TOKEN_CLS"}"#, "task_type"),
        (#"{"r": 4, "target_modules": ["q_proj"], "layer_replication": [[0, 2]]}"#, "layer_replication"),
        (#"{"r": 4}"#, "target_modules"),
        (#"{"r": 0, "target_modules": ["q_proj"]}"#, "\"r\""),
        (#"{"r": 4, "target_modules": ["q_proj"], "lora_dropout": 1.5}"#, "lora_dropout"),
        (#"{"r": "4", "target_modules": ["q_proj"]}"#, "\"r\""),
        (#"{"r": 4, "target_modules": [1]}"#, "target_modules[0]"),
        (#"{"r": 4, "target_modules": ["q_proj"],"#, "not valid JSON"),
    ])
    func refusesConfigsItCannotHonour(json: String, mentioned: String) {
        do {
            _ = try AdapterConfig(json: Data(json.utf8), path: "dir/adapter_config.json")
            Issue.record("accepted \(json)")
        } catch {
            let message = "\(error)"
            #expect(message.contains("dir/adapter_config.json") && message.contains(mentioned), "\(message)")
        }
    }

    @Test func anAdapterForAnotherBaseModelNamesTheFirstMismatchedKeyAndBothShapes() throws {
        try withTemporaryDirectory { directory in
            let llama = try loadModel("llama")
            try llama.attachLoRA(LoRAConfiguration(rank: 4, alpha: 8), seed: 5)
            try LoRAAdapter.save(from: llama, to: directory, baseModelNameOrPath: "tiny-llama")
            let qwen3 = try loadModel("qwen3")  // head_dim 32: q_proj is [128, 64], llama's [64, 64]
            do {
                try LoRAAdapter.load(from: directory, into: qwen3)
                Issue.record("an adapter for another model loaded")
            } catch let error as AdapterError {
                let key = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"
                #expect(error == .shapeMismatch(
                    path: directory.appendingPathComponent("adapter_model.safetensors").path, key: key,
                    expected: [128, 4], got: [64, 4],
                    hint: "this adapter was trained on another base model (tiny-llama)"))
                #expect("\(error)".contains(key) && "\(error)".contains("[64, 4]") && "\(error)".contains("[128, 4]"))
            }
            #expect(qwen3.loraConfiguration == nil && qwen3.loraModules.isEmpty, "a failed load attaches nothing")
        }
    }

    @Test func missingAndUnexpectedTensorsAreNamed() throws {
        try withTemporaryDirectory { directory in
            let model = try loadModel("llama")
            try model.attachLoRA(LoRAConfiguration(rank: 2, targets: .names(["v_proj"])), seed: 6)
            try LoRAAdapter.save(from: model, to: directory, baseModelNameOrPath: nil)
            let weights = directory.appendingPathComponent("adapter_model.safetensors")
            let tensors = try model.adapterParameters().map { (name: LoRAAdapter.keyPrefix + $0.key, tensor: $0.parameter.value) }
            // One tensor short.
            try SafetensorsWriter.write(tensors: Array(tensors.dropLast()), to: weights)
            #expect(throws: AdapterError.missingTensor(
                path: weights.path, key: "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight",
                hint: "the file does not match its adapter_config.json's target_modules")) {
                try LoRAAdapter.load(from: directory, into: try loadModel("llama"))
            }
            // One tensor too many.
            let extra = (name: "base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", tensor: tensors[0].tensor)
            try SafetensorsWriter.write(tensors: tensors + [extra], to: weights)
            do {
                try LoRAAdapter.load(from: directory, into: try loadModel("llama"))
                Issue.record("an unexpected tensor was accepted")
            } catch let AdapterError.unexpectedTensor(_, key, _) {
                #expect(key == extra.name)
            }
            // No weights at all, then only the pickle format.
            try FileManager.default.removeItem(at: weights)
            try Data().write(to: directory.appendingPathComponent("adapter_model.bin"))
            do {
                try LoRAAdapter.load(from: directory, into: try loadModel("llama"))
                Issue.record("a directory without safetensors weights was accepted")
            } catch let AdapterError.missingFile(_, hint) {
                #expect(hint.contains("safe_serialization"))
            }
            #expect(throws: AdapterError.self) { try LoRAAdapter.loadConfig(from: directory.appendingPathComponent("none")) }
            #expect(throws: AdapterError.noAdapterAttached) {
                try LoRAAdapter.save(from: try loadModel("llama"), to: directory, baseModelNameOrPath: nil)
            }
        }
    }
}
