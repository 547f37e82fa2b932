import Foundation
import SwiftTuneAdapters
import SwiftTuneChat
import SwiftTuneEngine
import SwiftTuneHub
import SwiftTuneModels
import SwiftTuneQuantization
import SwiftTuneRunFiles
import SwiftTuneTensor
import SwiftTuneTokenizers

/// Everything `swift-tune infer` resolved from its flags: the library form of ms-swift's `InferArguments`.
public struct InferenceOptions: Sendable {
    /// `--model`: an HF model folder. Optional with `adapters`, whose run's `args.json` names the base model.
    public var model: URL?
    /// `--adapters`: a PEFT adapter applied to every request (a `checkpoint-N` folder of a LoRA run).
    public var adapter: URL?
    /// More adapters, selectable per request by name (`Inference.respond(to:adapter:)`).
    public var namedAdapters: [String: URL] = [:]
    /// `--template`; nil: the run's, else chosen from the model.
    public var templateName: String?
    /// `--system`; nil: the run's, else the template's default.
    public var system: String?
    /// `--merge_lora`: add the adapter into the base weights once (faster; one adapter only).
    public var mergeLoRA = false
    /// Quantize the base's linear weights to bitsandbytes 4-bit as it loads; nil: as the adapter's run trained
    /// (`quant_bits` in its args.json), else dense.
    public var fourBit: FourBitQuantization?
    public var engine = EngineOptions()
    public var sampling = SamplingFlags()
    /// `--stop_words`, on top of the template's stop words and the tokenizer's EOS.
    public var stopWords: [String] = []

    public init(model: URL? = nil, adapter: URL? = nil) {
        self.model = model
        self.adapter = adapter
    }
}

/// A model ready to chat: tokenizer, template, adapters and the generation engine, loaded the way ms-swift's
/// `infer` loads them (`--adapters CKPT` alone is enough: model, template and system come from the run).
public final class Inference: @unchecked Sendable {
    public let engine: GenerationEngine
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    public let templateOptions: TemplateOptions
    /// The base model folder.
    public let modelFolder: URL
    /// The training run's arguments, when the adapter came with them.
    public let runArguments: RunArguments?
    /// The config every request starts from: the flags over the model's `generation_config.json`, plus the stops.
    public let generationConfig: GenerationConfig

    init(engine: GenerationEngine, tokenizer: Tokenizer, template: ChatTemplate, templateOptions: TemplateOptions,
         modelFolder: URL, runArguments: RunArguments?, generationConfig: GenerationConfig) {
        self.engine = engine
        self.tokenizer = tokenizer
        self.template = template
        self.templateOptions = templateOptions
        self.modelFolder = modelFolder
        self.runArguments = runArguments
        self.generationConfig = generationConfig
    }

    /// Loads model, tokenizer, adapters and template. `message` receives what was loaded, for the caller to show.
    public static func load(_ options: InferenceOptions, backend: any Backend,
                            message: (String) -> Void = { _ in }) throws -> Inference {
        var run: RunArguments?
        if let adapter = options.adapter {
            try checkAdapterFolder(adapter)
            run = try RunArguments.find(near: adapter)
        }
        let modelFolder: URL
        if let model = options.model {
            modelFolder = model
        } else if let run {
            modelFolder = try run.modelFolder()
        } else if let adapter = options.adapter {
            throw GenerationError.modelNotFound(
                reason: "\(adapter.path) has no args.json (looked there and in its parent folder), so its base model "
                    + "is unknown", hint: "pass --model with the base model's folder")
        } else {
            throw GenerationError.modelNotFound(reason: "no model given", hint: "pass --model, or --adapters with a checkpoint of a swift-tune run")
        }
        // A QLoRA run's adapter is served on the 4-bit base it trained over, quantized as it loads (no merge needed).
        let fourBit = options.fourBit ?? run.flatMap(Self.fourBitBase)
        if fourBit != nil, options.mergeLoRA {
            throw GenerationError.invalidSetting(flag: "merge_lora", value: "true",
                                                 expected: "false over a 4-bit base (the adapter runs beside the 4-bit weights; "
                                                     + "`swift-tune export --merge_lora true` merges into the bf16 base)")
        }
        let loaded: LoadedModel
        do { loaded = try LocalModel.load(path: modelFolder, backend: backend, fourBit: fourBit) } catch let error as HubError {
            if case .notFound = error { throw error }  // its message carries the hint already
            throw GenerationError.modelNotFound(reason: "\(error)", hint: HubError.modelHint)
        }
        let (tokenizer, model) = (loaded.tokenizer, loaded.model)
        if let adapter = options.adapter {
            try LoRAAdapter.load(from: adapter, into: model)
            if options.mergeLoRA { try model.mergeLoRA() }
        } else if options.mergeLoRA {
            throw GenerationError.invalidSetting(flag: "merge_lora", value: "true", expected: "false without --adapters")
        }
        let hints = TemplateRegistry.ModelHints(modelType: model.config.modelType.rawValue,
                                                modelName: loaded.name, tokenizer: tokenizer)
        let templateName = TemplateRegistry.templateName(for: hints, override: options.templateName ?? run?.template)
        let template = try TemplateRegistry.template(named: templateName)
        let engine = try GenerationEngine(model: model, tokenizer: tokenizer, options: options.engine)
        for (name, url) in options.namedAdapters.sorted(by: { $0.key < $1.key }) {
            try checkAdapterFolder(url)
            try engine.registerAdapter(name: name, directory: url)
        }
        let configFolder = loaded.format == .gguf ? modelFolder.deletingLastPathComponent() : modelFolder
        var config = try GenerationDefaults(directory: configFolder).config(applying: options.sampling)
        let eosText = tokenizer.eosTokenID.flatMap { tokenizer.token($0) }
        (config.stopTokenIDs, config.stopStrings) = stops(template.allStopWords(eosToken: eosText) + options.stopWords,
                                                          tokenizer: tokenizer)
        if let eos = tokenizer.eosTokenID { config.stopTokenIDs.insert(eos) }
        try config.validate()
        let system = options.system ?? run?.system
        message("model: \(modelFolder.path) (\(model.config.modelType.rawValue), \(model.config.numHiddenLayers) layers)"
            + (options.adapter.map { "; adapter: \($0.path)\(options.mergeLoRA ? " (merged)" : "")" } ?? "")
            + "; template: \(templateName); backend: \(backend.name)")
        return Inference(engine: engine, tokenizer: tokenizer, template: template,
                         templateOptions: TemplateOptions(system: system), modelFolder: modelFolder,
                         runArguments: run, generationConfig: config)
    }

    /// The 4-bit base a QLoRA run (`quant_bits` 4 in its args.json) trained over.
    static func fourBitBase(_ run: RunArguments) -> FourBitQuantization? {
        guard run.quantBits == 4 else { return nil }
        var quantization = FourBitQuantization()
        if let type = run.bnb4BitQuantType.flatMap(FourBitQuantType.init(rawValue:)) { quantization.quantType = type }
        if let double = run.bnb4BitUseDoubleQuant { quantization.doubleQuantization = double }
        return quantization
    }

    /// A LoRA checkpoint folder has `adapter_config.json`; a full fine-tuning one is a model folder.
    static func checkAdapterFolder(_ folder: URL) throws {
        let manager = FileManager.default
        guard manager.fileExists(atPath: folder.path) else {
            throw GenerationError.modelNotFound(reason: "adapter folder \(folder.path) does not exist",
                                                hint: "--adapters takes a checkpoint-N folder of a LoRA run")
        }
        if !manager.fileExists(atPath: folder.appendingPathComponent(LoRAAdapter.configFileName).path),
           manager.fileExists(atPath: folder.appendingPathComponent("config.json").path) {
            throw GenerationError.unsupportedAdapter(
                path: folder.path, reason: "this is a full fine-tuning checkpoint (a whole model), not a LoRA adapter",
                hint: "pass it as --model")
        }
    }

    /// Splits stop words into token ids (a word that is one added token, e.g. `<|im_end|>`) and stop strings.
    static func stops(_ words: [String], tokenizer: Tokenizer) -> (Set<Int32>, [String]) {
        var ids = Set<Int32>(), strings: [String] = []
        let added = Set(tokenizer.addedTokens.map(\.id))
        for word in words where !word.isEmpty {
            let encoded = tokenizer.encode(word, addSpecialTokens: false)
            if encoded.count == 1, added.contains(encoded[0]) {
                ids.insert(encoded[0])
            } else if !strings.contains(word) {
                strings.append(word)
            }
        }
        return (ids, strings)
    }

    // MARK: Answering

    /// The prompt ids of `conversation` (ending with the assistant header), as the template renders it.
    public func promptIDs(for conversation: Conversation) throws -> [Int32] {
        let encoder = TemplateEncoder(template: template, tokenizer: tokenizer, options: templateOptions)
        return try encoder.encode(conversation, mode: .generation).inputIDs
    }

    /// The request for `conversation` with this inference's config (and `seed` instead of its seed, if given).
    public func request(for conversation: Conversation, adapter: String? = nil,
                        seed: UInt64? = nil) throws -> GenerationRequest {
        var config = generationConfig
        if let seed { config.seed = seed }
        return GenerationRequest(promptIDs: try promptIDs(for: conversation), config: config, adapter: adapter)
    }

    /// The assistant's answer to `conversation`; `onDelta` receives the text as it is generated.
    public func respond(to conversation: Conversation, adapter: String? = nil,
                        onDelta: (String) throws -> Void = { _ in }) throws -> GenerationResult {
        let results = try engine.generate([try request(for: conversation, adapter: adapter)]) { event in
            if case let .delta(_, text) = event { try onDelta(text) }
        }
        guard let result = results.first else {
            throw GenerationError.invalidPrompt(request: 0, reason: "no result was produced")
        }
        return result
    }

    /// Answers to many conversations, batched by the engine (`max_batch_size`); request i samples with seed
    /// `seed + i`. `onFinished` receives the number done so far.
    public func respond(to conversations: [Conversation], adapter: String? = nil,
                        onFinished: (Int) -> Void = { _ in }) throws -> [GenerationResult] {
        let requests = try conversations.enumerated().map { index, conversation in
            try request(for: conversation, adapter: adapter, seed: generationConfig.seed &+ UInt64(index))
        }
        var done = 0
        return try engine.generate(requests) { event in
            if case .finished = event {
                done += 1
                onFinished(done)
            }
        }
    }
}
