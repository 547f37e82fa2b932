import SwiftTuneCheckpoint
import SwiftTuneNN
import SwiftTuneTensor

/// LoRA on the decoder: choosing modules by PEFT's rules, attaching, training, merging.
///
/// ```swift
/// try model.attachLoRA(LoRAConfiguration(rank: 8, alpha: 32, dropout: 0.05), seed: 42)  // freezes the base
/// let optimizer = try AdamW(parameters: model.trainableParameters)
/// _ = try model.lossAndGradients(batch, gradientScale: 1 / Float(tokens), dropoutSeed: seed)
/// ```
extension DecoderModel {
    /// Every linear layer of the decoder by module name (`model.layers.0.self_attn.q_proj`), in checkpoint order.
    public var linearModules: [(name: String, linear: Linear)] {
        layers.enumerated().flatMap { index, layer in
            DecoderLayer.linearKeyPaths.map { ("model.layers.\(index).\($0.name)", layer[keyPath: $0.keyPath]) }
        }
    }

    /// The attached adapters, in module order.
    public var loraModules: [LoRA] { linearModules.compactMap(\.linear.lora) }

    /// The parameters an optimizer updates, each once, in model order; within a linear layer: weight, bias, then
    /// the adapter's A and B (PEFT's order).
    public var trainableParameters: [Parameter] {
        var all = [embedTokens]
        for layer in layers {
            all.append(layer.inputLayernorm)
            for linear in [layer.qProj, layer.kProj, layer.vProj, layer.oProj] { all += linear.parameters }
            all += [layer.qNorm, layer.kNorm].compactMap { $0 } + [layer.postAttentionLayernorm]
            for linear in [layer.gateProj, layer.upProj, layer.downProj] { all += linear.parameters }
        }
        all += [norm, lmHead] + (score.map { [$0] } ?? [])
        var seen = Set<ObjectIdentifier>()
        return all.filter { $0.isTrainable && seen.insert(ObjectIdentifier($0)).inserted }
    }

    /// Every module that holds parameters (HF's leaf modules), with its parameters by suffix (`weight`, `bias`).
    /// lm_head is listed even when tied, as PyTorch's `named_modules(remove_duplicate=False)` lists it.
    var parameterModules: [(name: String, parameters: [(suffix: String, parameter: Parameter)])] {
        func linear(_ linear: Linear) -> [(String, Parameter)] {
            (linear.denseWeight.map { [("weight", $0)] } ?? []) + (linear.bias.map { [("bias", $0)] } ?? [])
        }
        var modules: [(String, [(String, Parameter)])] = [("model.embed_tokens", [("weight", embedTokens)])]
        for (index, layer) in layers.enumerated() {
            let prefix = "model.layers.\(index)."
            modules.append((prefix + "input_layernorm", [("weight", layer.inputLayernorm)]))
            for (name, keyPath) in DecoderLayer.linearKeyPaths {
                modules.append((prefix + name, linear(layer[keyPath: keyPath])))
            }
            if let qNorm = layer.qNorm, let kNorm = layer.kNorm {
                modules.append((prefix + "self_attn.q_norm", [("weight", qNorm)]))
                modules.append((prefix + "self_attn.k_norm", [("weight", kNorm)]))
            }
            modules.append((prefix + "post_attention_layernorm", [("weight", layer.postAttentionLayernorm)]))
        }
        modules.append(("model.norm", [("weight", norm)]))
        modules.append(("lm_head", [("weight", lmHead)]))
        if let score { modules.append(("score", [("weight", score)])) }
        return modules.map { (name: $0.0, parameters: $0.1.map { (suffix: $0.0, parameter: $0.1) }) }
    }

    // MARK: Choosing modules

    /// The linear modules `configuration` adapts, in model order (PEFT's `check_target_module_exists`).
    ///
    /// Throws when it selects nothing, or selects the embeddings or lm_head (where PEFT would add an adapter this
    /// decoder does not implement; train them in full with `modulesToSave` instead).
    public func loraTargetModules(for configuration: LoRAConfiguration) throws -> [String] {
        for name in ["model.embed_tokens", "lm_head"] where try configuration.adapts(module: name, isLinear: false) {
            throw ModelError.invalidLoRAConfiguration(
                key: "target_modules", reason: "selects \(name), and LoRA on embeddings or lm_head is not supported",
                hint: "train it in full with modules_to_save [\"\(name.split(separator: ".").last ?? "")\"]")
        }
        let names = try linearModules.map(\.name).filter { try configuration.adapts(module: $0, isLinear: true) }
        guard !names.isEmpty else {
            throw ModelError.invalidLoRAConfiguration(
                key: "target_modules", reason: "\(configuration.targets) selects none of this model's linear layers",
                hint: "use all-linear, suffixes such as q_proj and v_proj, or a regex over names like "
                    + "model.layers.0.self_attn.q_proj")
        }
        return names
    }

    /// The leaf modules `configuration.modulesToSave` trains in full, in model order. As PEFT does, an entry
    /// selects every module whose name ends with it (`norm` selects every RMSNorm) and a container
    /// (`model.layers.0.mlp`) selects the modules inside it. Throws when an entry selects nothing.
    public func modulesToSave(for configuration: LoRAConfiguration) throws -> [String] {
        try Self.modulesToSave(leaves: parameterModules.map(\.name), layerCount: layers.count, configuration)
    }

    /// `modulesToSave(for:)` over a list of leaf module names.
    static func modulesToSave(leaves: [String], layerCount: Int, _ configuration: LoRAConfiguration) throws -> [String] {
        var containers: [String] = ["model", "model.layers"]
        for index in 0..<layerCount {
            containers += ["model.layers.\(index)", "model.layers.\(index).self_attn", "model.layers.\(index).mlp"]
        }
        var selected = Set<String>()
        for entry in configuration.modulesToSave {
            let matches = (leaves + containers).filter { $0.hasSuffix(entry) }
            let inside = leaves.filter { leaf in matches.contains { leaf == $0 || leaf.hasPrefix($0 + ".") } }
            guard !inside.isEmpty else {
                throw ModelError.invalidLoRAConfiguration(
                    key: "modules_to_save", reason: "\"\(entry)\" matches no module of this model",
                    hint: "use module names such as embed_tokens, lm_head or norm")
            }
            selected.formUnion(inside)
        }
        return leaves.filter(selected.contains)
    }

    /// The tensors a PEFT adapter for `lora` holds on a model of `config`, as `adapterTensorShapes(for:)` lists them,
    /// computed from the config alone: export checks an adapter against a base model whose weights it streams
    /// instead of loading. A tied lm_head is listed as its own module (`lm_head.weight`), as PEFT saves it.
    public static func adapterTensorShapes(config: DecoderConfig,
                                           lora: LoRAConfiguration) throws -> [(key: String, shape: [Int])] {
        var shapes = parameterShapes(for: config)
        if config.tieWordEmbeddings { shapes.append(("lm_head.weight", [config.vocabSize, config.hiddenSize])) }
        // Leaf modules with their parameters, in checkpoint order (a module's weight and bias are adjacent).
        var modules: [(name: String, parameters: [(suffix: String, shape: [Int])])] = []
        for (key, shape) in shapes {
            guard let dot = key.lastIndex(of: ".") else { continue }
            let module = String(key[..<dot]), suffix = String(key[key.index(after: dot)...])
            if modules.last?.name == module {
                modules[modules.count - 1].parameters.append((suffix, shape))
            } else {
                modules.append((module, [(suffix, shape)]))
            }
        }
        for name in ["model.embed_tokens", "lm_head"] where try lora.adapts(module: name, isLinear: false) {
            throw ModelError.invalidLoRAConfiguration(
                key: "target_modules", reason: "selects \(name), and LoRA on embeddings or lm_head is not supported",
                hint: "train it in full with modules_to_save [\"\(name.split(separator: ".").last ?? "")\"]")
        }
        var result: [(key: String, shape: [Int])] = []
        for module in modules where module.name.hasSuffix("_proj") && module.name.hasPrefix("model.layers.") {
            guard try lora.adapts(module: module.name, isLinear: true), let weight = module.parameters.first else { continue }
            result.append((module.name + ".lora_A.weight", [lora.rank, weight.shape[1]]))
            result.append((module.name + ".lora_B.weight", [weight.shape[0], lora.rank]))
        }
        guard !result.isEmpty else {
            throw ModelError.invalidLoRAConfiguration(
                key: "target_modules", reason: "\(lora.targets) selects none of this model's linear layers",
                hint: "use all-linear, suffixes such as q_proj and v_proj, or a regex over names like "
                    + "model.layers.0.self_attn.q_proj")
        }
        let saved = Set(try modulesToSave(leaves: modules.map(\.name), layerCount: config.numHiddenLayers, lora))
        for module in modules where saved.contains(module.name) {
            for (suffix, shape) in module.parameters { result.append((module.name + "." + suffix, shape)) }
        }
        return result
    }

    /// The tensors a PEFT adapter for `configuration` holds on this model, by key without PEFT's
    /// `base_model.model.` prefix, with their shapes: `<module>.lora_A.weight` `[r, in]` and `.lora_B.weight`
    /// `[out, r]` per adapted module, then each `modulesToSave` parameter (`lm_head.weight`). Mutates nothing,
    /// so an adapter file can be checked before anything is attached.
    public func adapterTensorShapes(for configuration: LoRAConfiguration) throws -> [(key: String, shape: [Int])] {
        let targets = Set(try loraTargetModules(for: configuration))
        var shapes: [(String, [Int])] = []
        for (name, linear) in linearModules where targets.contains(name) {
            shapes.append((name + ".lora_A.weight", [configuration.rank, linear.inFeatures]))
            shapes.append((name + ".lora_B.weight", [linear.outFeatures, configuration.rank]))
        }
        let saved = Set(try modulesToSave(for: configuration))
        for module in parameterModules where saved.contains(module.name) {
            for (suffix, parameter) in module.parameters { shapes.append((module.name + "." + suffix, parameter.shape)) }
        }
        return shapes.map { (key: $0.0, shape: $0.1) }
    }

    /// The attached adapter's tensors by the keys of `adapterTensorShapes` (same order).
    public func adapterParameters() throws -> [(key: String, parameter: Parameter)] {
        guard let configuration = loraConfiguration else { return [] }
        var result: [(key: String, parameter: Parameter)] = []
        for lora in loraModules {
            result.append((lora.loraA.name, lora.loraA))
            result.append((lora.loraB.name, lora.loraB))
        }
        let saved = Set(try modulesToSave(for: configuration))
        for module in parameterModules where saved.contains(module.name) {
            for (suffix, parameter) in module.parameters { result.append((module.name + "." + suffix, parameter)) }
        }
        return result
    }

    // MARK: Attaching, training, merging

    /// Attaches a new adapter to every module `configuration` selects: A Kaiming-uniform drawn from `seed` in
    /// module order, B zero, so the outputs do not change.
    ///
    /// With `trainable` (training), every base parameter is frozen and the adapters and the `modulesToSave`
    /// parameters get (zeroed) gradients; without it, no trainability changes (inference). When embeddings are
    /// tied and `modulesToSave` names embed_tokens or lm_head, the lm_head becomes a copy first (PEFT trains a
    /// copy of the module, which unties them) unless `ensureWeightTying`.
    @discardableResult
    public func attachLoRA(_ configuration: LoRAConfiguration, seed: UInt64, trainable: Bool = true) throws -> [LoRA] {
        guard loraConfiguration == nil else {
            throw ModelError.invalidLoRAConfiguration(key: "adapter", reason: "an adapter is already attached",
                                                      hint: "call removeLoRA() (after mergeLoRA() to keep it) first")
        }
        guard configuration.rank >= 1, configuration.dropout >= 0, configuration.dropout < 1 else {
            throw ModelError.invalidLoRAConfiguration(
                key: "r / lora_dropout", reason: "rank \(configuration.rank), dropout \(configuration.dropout)",
                hint: "the rank must be at least 1 and the dropout in [0, 1)")
        }
        let targets = Set(try loraTargetModules(for: configuration))
        let saved = try modulesToSave(for: configuration)
        if lmHead === embedTokens, !configuration.ensureWeightTying,
           saved.contains("model.embed_tokens") || saved.contains("lm_head") {
            lmHead = Parameter(name: "lm_head.weight", value: try backend.converted(embedTokens.compute, to: precision.compute))
        }
        var generator = SeededGenerator(seed: seed)
        var attached: [LoRA] = []
        for index in layers.indices {
            for (name, keyPath) in DecoderLayer.linearKeyPaths {
                let moduleName = "model.layers.\(index).\(name)"
                guard targets.contains(moduleName) else { continue }
                let linear = layers[index][keyPath: keyPath]
                let lora = try LoRA(moduleName: moduleName, inFeatures: linear.inFeatures,
                                    outFeatures: linear.outFeatures, rank: configuration.rank, alpha: configuration.alpha,
                                    dropout: Float(configuration.dropout), useRSLoRA: configuration.useRSLoRA,
                                    backend: backend, computeDType: precision.compute, generator: &generator)
                layers[index][keyPath: keyPath].lora = lora
                attached.append(lora)
            }
        }
        loraConfiguration = configuration
        if trainable {
            try setAllTrainable(false)
            for lora in attached {
                for parameter in lora.parameters { try parameter.setTrainable(true) }
            }
            for (_, parameter) in try adapterParameters() { try parameter.setTrainable(true) }
        }
        return attached
    }

    /// Adds every adapter into its base weight (`W += scale·B·A`) for inference or export. The adapters stay
    /// attached, marked merged (their side path skipped), until `unmergeLoRA` or `removeLoRA`. Do not train a
    /// merged model: merged adapters get no gradients.
    public func mergeLoRA() throws {
        for (_, linear) in linearModules { try linear.mergeLoRA() }
    }

    /// Takes merged adapters back out of the base weights (`W −= scale·B·A`; equal up to rounding).
    public func unmergeLoRA() throws {
        for (_, linear) in linearModules { try linear.unmergeLoRA() }
    }

    /// Takes the attached (unmerged) adapters off the model and returns them, so another set can be attached and
    /// this one put back later with `attachLoRA(_:)`: several adapters share one base model, one active at a time.
    /// Returns nil when none is attached. Throws for merged adapters, which live inside the base weights.
    public func detachLoRA() throws -> LoRASet? {
        guard let configuration = loraConfiguration else { return nil }
        if let merged = loraModules.first(where: \.isMerged) {
            throw ModelError.invalidLoRAConfiguration(
                key: "adapter", reason: "\(merged.moduleName) is merged into the base weights and cannot be detached",
                hint: "call unmergeLoRA() first")
        }
        var modules: [String: LoRA] = [:]
        for (name, linear) in linearModules { if let lora = linear.lora { modules[name] = lora } }
        removeLoRA()
        return LoRASet(configuration: configuration, modules: modules)
    }

    /// Attaches adapters taken off with `detachLoRA()` (to this model or one of the same shape), unmerged.
    public func attachLoRA(_ set: LoRASet) throws {
        guard loraConfiguration == nil else {
            throw ModelError.invalidLoRAConfiguration(key: "adapter", reason: "an adapter is already attached",
                                                      hint: "detachLoRA() the current one first")
        }
        let modules = Dictionary(uniqueKeysWithValues: linearModules.map { ($0.name, $0.linear) })
        for (name, lora) in set.modules {
            guard let linear = modules[name] else {
                throw ModelError.invalidLoRAConfiguration(key: "adapter", reason: "\(name) is not a module of this model",
                                                          hint: "attach adapters to the model they were loaded for")
            }
            guard lora.loraA.shape == [lora.rank, linear.inFeatures], lora.loraB.shape == [linear.outFeatures, lora.rank] else {
                throw ModelError.weightShapeMismatch(key: lora.loraA.name, source: "LoRA set",
                                                     expected: [lora.rank, linear.inFeatures], got: lora.loraA.shape)
            }
        }
        for index in layers.indices {
            for (name, keyPath) in DecoderLayer.linearKeyPaths {
                layers[index][keyPath: keyPath].lora = set.modules["model.layers.\(index).\(name)"]
            }
        }
        loraConfiguration = set.configuration
    }

    /// Detaches every adapter, merged or not; merged weights stay merged. An lm_head untied for `modulesToSave`
    /// stays untied.
    public func removeLoRA() {
        for index in layers.indices {
            for (_, keyPath) in DecoderLayer.linearKeyPaths { layers[index][keyPath: keyPath].lora = nil }
        }
        loraConfiguration = nil
    }
}

/// Unmerged adapters by module name (`model.layers.0.self_attn.q_proj`) with their configuration: one adapter that
/// `DecoderModel.detachLoRA()` took off a model, ready to be attached again with `attachLoRA(_:)`.
public struct LoRASet: @unchecked Sendable {
    public let configuration: LoRAConfiguration
    public let modules: [String: LoRA]
}
