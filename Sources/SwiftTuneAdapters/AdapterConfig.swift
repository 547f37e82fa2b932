import Foundation
import SwiftTuneCheckpoint
import SwiftTuneJSON
import SwiftTuneModels

/// A PEFT LoRA `adapter_config.json` (https://huggingface.co/docs/peft, `LoraConfig`), read from what PEFT or
/// ms-swift wrote and written the way PEFT 0.21 writes it: every `LoraConfig` field, keys sorted, two-space
/// indent (`json.dumps(indent=2, sort_keys=True)`).
public struct AdapterConfig: Sendable, Equatable {
    /// PEFT's `task_type`: what the adapted model computes.
    public enum TaskType: String, Sendable, Equatable {
        /// A language model (the lm_head).
        case causalLM = "CAUSAL_LM"
        /// A reward model: a value head `score` (`…ForSequenceClassification`), trained in full as a
        /// `modules_to_save` module; PEFT adds `classifier` and `score` to `modules_to_save` for this task.
        case sequenceClassification = "SEQ_CLS"
    }

    /// The module choice and hyperparameters. For `SEQ_CLS`, `modulesToSave` holds `score` and not PEFT's
    /// `classifier` (a name of other architectures' heads).
    public var lora: LoRAConfiguration
    public var taskType: TaskType = .causalLM
    /// `base_model_name_or_path`: the model the adapter was trained on (a hub id or a directory).
    public var baseModelNameOrPath: String?
    /// `revision` of the base model.
    public var revision: String?

    public init(lora: LoRAConfiguration, baseModelNameOrPath: String? = nil, revision: String? = nil,
                taskType: TaskType = .causalLM) {
        self.lora = lora
        self.taskType = taskType
        self.baseModelNameOrPath = baseModelNameOrPath
        self.revision = revision
    }

    /// The PEFT version whose `adapter_config.json` layout `json` follows (written as `peft_version`).
    public static let peftVersion = "0.21.0"

    // MARK: Reading

    /// Parses an `adapter_config.json`; `path` names the file in errors. Refuses PEFT features that change what
    /// the adapter computes and are not implemented (DoRA, bias training, per-module ranks, …).
    public init(json data: Data, path: String) throws {
        let object = try ConfigObject.root(data, path: path)
        func unsupported(_ key: String, _ value: String, _ hint: String) -> AdapterError {
            .unsupportedConfig(path: path, key: key, value: value, hint: hint)
        }
        if let type = try object.string("peft_type"), type != "LORA" {
            throw unsupported("peft_type", type, "only LoRA adapters are implemented")
        }
        var task = TaskType.causalLM
        if let text = try object.string("task_type") {
            guard let type = TaskType(rawValue: text) else {
                throw unsupported("task_type", text, "only language-model (CAUSAL_LM) and reward-model (SEQ_CLS) "
                    + "adapters are implemented")
            }
            task = type
        }
        if let bias = try object.string("bias"), bias != "none" {
            throw unsupported("bias", bias, "train without bias (bias \"none\", ms-swift's --lora_bias none)")
        }
        for key in ["fan_in_fan_out", "use_dora", "use_qalora", "lora_bias"] where try object.bool(key) == true {
            throw unsupported(key, "true", "retrain with plain LoRA (\(key) false)")
        }
        for key in ["rank_pattern", "alpha_pattern"] {
            if let patterns = try object.object(key), !patterns.members.isEmpty {
                throw unsupported(key, "per-module values", "retrain with one r and lora_alpha for every module")
            }
        }
        for key in ["layer_replication", "trainable_token_indices", "alora_invocation_tokens", "megatron_config",
                    "velora_config", "monteclora_config", "use_bdlora", "arrow_config", "kasa_config"]
        where object.has(key) {
            throw unsupported(key, object.value(key)?.summary ?? "set", "this PEFT option is not implemented")
        }
        if let parameters = try object.stringList("target_parameters"), !parameters.isEmpty {
            throw unsupported("target_parameters", "\(parameters)", "adapters on raw parameters are not implemented")
        }
        guard let targets = try Self.selector(object, "target_modules") else {
            throw AdapterError.invalidConfig(path: path, key: "target_modules", expected: "a list of module names or a regex",
                                             got: object.isAbsent("target_modules") ? "nothing" : "null")
        }
        let rank = try object.requiredInt("r")
        guard rank >= 1 else { throw AdapterError.invalidConfig(path: path, key: "r", expected: "at least 1", got: "\(rank)") }
        let dropout = try object.double("lora_dropout") ?? 0
        guard (0..<1).contains(dropout) else {
            throw AdapterError.invalidConfig(path: path, key: "lora_dropout", expected: "a number in [0, 1)", got: "\(dropout)")
        }
        let layersPattern: [String]?  // a string or a list of strings
        if case let .string(pattern)? = object.value("layers_pattern") {
            layersPattern = [pattern]
        } else {
            layersPattern = try object.stringList("layers_pattern")
        }
        lora = LoRAConfiguration(
            rank: rank, alpha: try object.double("lora_alpha") ?? 8, dropout: dropout,
            useRSLoRA: try object.bool("use_rslora") ?? false, targets: targets,
            excludeModules: try Self.selector(object, "exclude_modules"),
            layersToTransform: try object.intList("layers_to_transform"), layersPattern: layersPattern,
            modulesToSave: Self.modulesToSave(try object.stringList("modules_to_save") ?? [], taskType: task),
            ensureWeightTying: try object.bool("ensure_weight_tying") ?? false)
        taskType = task
        baseModelNameOrPath = try object.string("base_model_name_or_path")
        revision = try object.string("revision")
    }

    /// `modules_to_save` as the model knows it: for `SEQ_CLS`, PEFT's `classifier` dropped and `score` present.
    static func modulesToSave(_ names: [String], taskType: TaskType) -> [String] {
        guard taskType == .sequenceClassification else { return names }
        return names.filter { $0 != "classifier" && $0 != "score" } + ["score"]
    }

    /// `target_modules` / `exclude_modules`: a string is a regex (or PEFT's `all-linear`), a list names modules.
    private static func selector(_ object: ConfigObject, _ key: String) throws -> ModuleSelector? {
        if case let .string(text)? = object.value(key) {
            return text.lowercased() == "all-linear" ? .allLinear : .regex(text)
        }
        return try object.stringList(key).map { .names($0) }
    }

    // MARK: Writing

    /// The file's text. `allLinear` is written as ms-swift writes its expansion: the sorted module suffixes of the
    /// modules it selected (`moduleSuffixes`), so PEFT selects the same modules when it loads the adapter.
    public func json(moduleSuffixes: [String]) -> String {
        func selector(_ selector: ModuleSelector?) -> JSONValue {
            switch selector {
            case nil: .null
            case .allLinear?: .array(moduleSuffixes.sorted().map(JSONValue.string))
            case let .names(names)?: .array(names.sorted().map(JSONValue.string))
            case let .regex(pattern)?: .string(pattern)
            }
        }
        // PEFT appends its SEQ_CLS heads to the user's modules_to_save.
        let savedModules = taskType == .sequenceClassification
            ? lora.modulesToSave.filter { $0 != "score" } + ["classifier", "score"] : lora.modulesToSave
        let alpha = lora.alpha.rounded() == lora.alpha && abs(lora.alpha) < 1e15
            ? JSONNumber(Int(lora.alpha)) : JSONNumber(lora.alpha)
        let fields: JSONValue = [
            "alora_invocation_tokens": .null, "alpha_pattern": [:], "arrow_config": .null,
            "auto_mapping": .null, "base_model_name_or_path": baseModelNameOrPath.map(JSONValue.string) ?? .null,
            "bias": .string("none"), "corda_config": .null, "ensure_weight_tying": .bool(lora.ensureWeightTying),
            "eva_config": .null, "exclude_modules": selector(lora.excludeModules), "fan_in_fan_out": .bool(false),
            "inference_mode": .bool(true), "init_lora_weights": .bool(true), "kasa_config": .null,
            "layer_replication": .null,
            "layers_pattern": lora.layersPattern.map { .array($0.map(JSONValue.string)) } ?? .null,
            "layers_to_transform": lora.layersToTransform.map { .array($0.map { .number(JSONNumber($0)) }) } ?? .null,
            "loftq_config": [:], "lora_alpha": .number(alpha), "lora_bias": .bool(false),
            "lora_dropout": .number(JSONNumber(lora.dropout)), "lora_ga_config": .null, "megatron_config": .null,
            "megatron_core": .string("megatron.core"),
            "modules_to_save": savedModules.isEmpty ? .null : .array(savedModules.map(JSONValue.string)),
            "monteclora_config": .null, "peft_type": .string("LORA"), "peft_version": .string(Self.peftVersion),
            "qalora_group_size": 16, "r": .number(JSONNumber(lora.rank)), "rank_pattern": [:],
            "revision": revision.map(JSONValue.string) ?? .null, "target_modules": selector(lora.targets),
            "target_parameters": .null, "task_type": .string(taskType.rawValue), "trainable_token_indices": .null,
            "use_bdlora": .null, "use_dora": .bool(false), "use_qalora": .bool(false),
            "use_rslora": .bool(lora.useRSLoRA), "velora_config": .null,
        ]
        return fields.pythonJSONString(indent: 2, sortKeys: true, asciiOnly: true)
    }
}
