import Foundation
import SwiftTuneAdapters
import SwiftTuneChat
import SwiftTuneModels
import SwiftTuneTokenizers

extension Inference {
    /// An inference around a model that is already loaded, whatever it was read from (an HF folder, or a GGUF file
    /// through SwiftTuneHub's `LocalModel`): the steps of `load` after the weights. Attaches `options.adapter`
    /// (merged with `mergeLoRA`), picks the template (`options.templateName`, else the run's, else from the model:
    /// its type, `modelName` and the tokenizer's chat template), makes the engine, registers the named adapters,
    /// and builds the request config from `defaults` (the model's `generation_config.json`) and the flags, with the
    /// template's stop words and the tokenizer's EOS.
    public static func assemble(model: DecoderModel, tokenizer: Tokenizer, modelName: String, source: URL,
                                defaults: GenerationDefaults, runArguments run: RunArguments?,
                                options: InferenceOptions) throws -> Inference {
        if let adapter = options.adapter {
            try checkAdapterFolder(adapter)
            try LoRAAdapter.load(from: adapter, into: model)
            if options.mergeLoRA { try model.mergeLoRA() }
        } else if options.mergeLoRA {
            throw GenerationError.invalidSetting(flag: "merge_lora", value: "true", expected: "false without --adapters")
        }
        let hints = TemplateRegistry.ModelHints(modelType: model.config.modelType.rawValue, modelName: modelName,
                                                tokenizer: tokenizer)
        let templateName = TemplateRegistry.templateName(for: hints, override: options.templateName ?? run?.template)
        let template = try TemplateRegistry.template(named: templateName)
        let engine = try GenerationEngine(model: model, tokenizer: tokenizer, options: options.engine)
        for (name, url) in options.namedAdapters.sorted(by: { $0.key < $1.key }) {
            try checkAdapterFolder(url)
            try engine.registerAdapter(name: name, directory: url)
        }
        var config = defaults.config(applying: options.sampling)
        let eosText = tokenizer.eosTokenID.flatMap { tokenizer.token($0) }
        (config.stopTokenIDs, config.stopStrings) = stops(template.allStopWords(eosToken: eosText) + options.stopWords,
                                                          tokenizer: tokenizer)
        if let eos = tokenizer.eosTokenID { config.stopTokenIDs.insert(eos) }
        try config.validate()
        return Inference(engine: engine, tokenizer: tokenizer, template: template,
                         templateOptions: TemplateOptions(system: options.system ?? run?.system), modelFolder: source,
                         runArguments: run, generationConfig: config)
    }

    /// The template's name (`chatml`, `qwen2_5`, …).
    public var templateName: String { template.name }
}

extension Inference {
    /// The `args.json` of the run an `--adapters` checkpoint comes from (nil when there is none), after checking
    /// that the folder is a LoRA adapter.
    public static func runArguments(forAdapter adapter: URL) throws -> RunArguments? {
        try checkAdapterFolder(adapter)
        return try RunArguments.find(near: adapter)
    }
}
