/// Which modules of a decoder get LoRA, and how: PEFT's `LoraConfig` semantics behind ms-swift's flags
/// (`--lora_rank`, `--lora_alpha`, `--lora_dropout`, `--use_rslora`, `--target_modules`, `--target_regex`,
/// `--modules_to_save`).
///
/// Module names are HF's (`model.layers.0.self_attn.q_proj`, `model.embed_tokens`, `lm_head`). A module is
/// adapted (PEFT's `check_target_module_exists`) when it is not excluded by `excludeModules`, does not lie in a
/// `modulesToSave` module, and `targets` selects it; for `allLinear` and `names`, `layersToTransform` then keeps
/// only the listed layer indices.
public struct LoRAConfiguration: Sendable, Equatable {
    /// `r`
    public var rank: Int
    /// `lora_alpha`
    public var alpha: Double
    /// `lora_dropout`, on the adapters' input during training.
    public var dropout: Double
    /// `use_rslora`: scale by `alpha / √r` instead of `alpha / r`.
    public var useRSLoRA: Bool
    /// `target_modules` (or ms-swift's `--target_regex`).
    public var targets: ModuleSelector
    /// `exclude_modules`
    public var excludeModules: ModuleSelector?
    /// `layers_to_transform`: layer indices that get adapters (with `allLinear` or `names` targets).
    public var layersToTransform: [Int]?
    /// `layers_pattern`: the name part before the layer index (default: any, i.e. `layers`).
    public var layersPattern: [String]?
    /// `modules_to_save`: modules trained in full and saved with the adapter, matched as a suffix of the module
    /// name (`embed_tokens`, `lm_head`, `norm`).
    public var modulesToSave: [String]
    /// `ensure_weight_tying`: keep tied embeddings tied when one of them is in `modulesToSave`. PEFT's default
    /// (false) trains a copy, which unties them.
    public var ensureWeightTying: Bool

    public init(rank: Int = 8, alpha: Double = 32, dropout: Double = 0.05, useRSLoRA: Bool = false,
                targets: ModuleSelector = .allLinear, excludeModules: ModuleSelector? = nil,
                layersToTransform: [Int]? = nil, layersPattern: [String]? = nil, modulesToSave: [String] = [],
                ensureWeightTying: Bool = false) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.useRSLoRA = useRSLoRA
        self.targets = targets
        self.excludeModules = excludeModules
        self.layersToTransform = layersToTransform
        self.layersPattern = layersPattern
        self.modulesToSave = modulesToSave
        self.ensureWeightTying = ensureWeightTying
    }

    /// Whether module `name` gets an adapter (PEFT's `check_target_module_exists`); `isLinear` says whether it is
    /// one of the decoder's linear layers (what `all-linear` selects).
    func adapts(module name: String, isLinear: Bool) throws -> Bool {
        if let excludeModules, try excludeModules.selects(name, isLinear: isLinear, key: "exclude_modules") {
            return false
        }
        // Adapters never go inside a module that is trained in full.
        for module in modulesToSave where try Self.wholeMatch(name, "(?:|.*\\.)" + module + "(?:|\\..*)",
                                                               key: "modules_to_save") {
            return false
        }
        guard try targets.selects(name, isLinear: isLinear, key: "target_modules") else { return false }
        // PEFT applies layers_to_transform only to suffix matches: not to a regex, nor to an exact full name.
        // `allLinear` counts as ms-swift's expansion, a list of suffixes (`q_proj`, …).
        switch targets {
        case .regex: return true
        case let .names(names) where names.contains(name): return true
        case .names, .allLinear: break
        }
        guard let layersToTransform, !layersToTransform.isEmpty else { return true }
        guard let index = try layerIndex(of: name) else { return false }
        return layersToTransform.contains(index)
    }

    /// The layer index in `name`, as PEFT finds it: the first number after `<pattern>.` (any name part by default).
    func layerIndex(of name: String) throws -> Int? {
        let patterns = (layersPattern ?? []).isEmpty ? ["[^.]*"] : layersPattern ?? []
        for pattern in patterns {
            let regex = try Self.regex("^.*?\\." + pattern + "\\.(\\d+)\\.", key: "layers_pattern")
            if let match = try regex.prefixMatch(in: name), let digits = match.output[1].substring {
                return Int(digits)
            }
        }
        return nil
    }

    static func regex(_ pattern: String, key: String) throws -> Regex<AnyRegexOutput> {
        do {
            return try Regex(pattern)
        } catch {
            throw ModelError.invalidLoRAConfiguration(
                key: key, reason: "\"\(pattern)\" is not a valid regular expression (\(error))",
                hint: "escape dots in module names: model\\.layers\\.0\\.self_attn\\.q_proj")
        }
    }

    static func wholeMatch(_ name: String, _ pattern: String, key: String) throws -> Bool {
        try regex(pattern, key: key).wholeMatch(in: name) != nil
    }
}

/// A set of modules named as PEFT's `target_modules` does.
public enum ModuleSelector: Sendable, Equatable, CustomStringConvertible {
    /// PEFT's `all-linear`: every linear layer of the decoder (q/k/v/o, gate/up/down), never lm_head.
    case allLinear
    /// Module names or their suffixes after a dot: `q_proj` selects `model.layers.0.self_attn.q_proj`.
    case names([String])
    /// A regular expression that must match the whole module name (`target_modules` given as a string,
    /// ms-swift's `--target_regex`), e.g. `model\.layers\.[01]\.self_attn\.(q|v)_proj`.
    case regex(String)

    /// As the flags spell it: `all-linear`, `q_proj v_proj`, or the regex in quotes.
    public var description: String {
        switch self {
        case .allLinear: "all-linear"
        case let .names(names): names.joined(separator: " ")
        case let .regex(pattern): "the regex \"\(pattern)\""
        }
    }

    /// Whether the selector picks module `name`; `isLinear` says whether it is one of the decoder's linears.
    func selects(_ name: String, isLinear: Bool, key: String) throws -> Bool {
        switch self {
        case .allLinear:
            return isLinear
        case let .names(names):
            return names.contains { name == $0 || name.hasSuffix("." + $0) }
        case let .regex(pattern):
            return try LoRAConfiguration.wholeMatch(name, pattern, key: key)
        }
    }
}
