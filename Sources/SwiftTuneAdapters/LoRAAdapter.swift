import Foundation
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneTensor

/// PEFT adapter directories: `adapter_config.json` plus `adapter_model.safetensors`, with PEFT's key names
/// (`base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`, `base_model.model.lm_head.weight` for a
/// `modules_to_save` module), so adapters move freely between swift-tune, PEFT, ms-swift and vLLM.
public enum LoRAAdapter {
    public static let configFileName = "adapter_config.json"
    public static let weightsFileName = "adapter_model.safetensors"
    /// What PEFT puts before a base-model key in adapter files.
    public static let keyPrefix = "base_model.model."

    /// Writes the attached adapter of `model` into `directory` (created if needed), each file atomically
    /// (temporary file, then rename): the tensors in f32, then the config.
    ///
    /// - Parameter baseModelNameOrPath: written as `base_model_name_or_path`, e.g. the hub id or model directory.
    public static func save(from model: DecoderModel, to directory: URL, baseModelNameOrPath: String?) throws {
        guard let configuration = model.loraConfiguration else { throw AdapterError.noAdapterAttached }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tensors = try model.adapterParameters().map { (name: keyPrefix + $0.key, tensor: $0.parameter.value) }
        try SafetensorsWriter.write(tensors: tensors, to: directory.appendingPathComponent(weightsFileName))
        let suffixes = Set(model.loraModules.map { String($0.moduleName.split(separator: ".").last ?? "") })
        let config = AdapterConfig(lora: configuration, baseModelNameOrPath: baseModelNameOrPath)
        try Data(config.json(moduleSuffixes: Array(suffixes)).utf8)
            .write(to: directory.appendingPathComponent(configFileName), options: .atomic)
    }

    /// Reads and checks `directory/adapter_config.json`.
    public static func loadConfig(from directory: URL) throws -> AdapterConfig {
        let url = directory.appendingPathComponent(configFileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw AdapterError.missingFile(path: url.path, hint: "a PEFT adapter directory holds \(configFileName) "
                                           + "and \(weightsFileName)")
        }
        return try AdapterConfig(json: data, path: url.path)
    }

    /// Attaches the adapter in `directory` to `model` and loads its tensors (converted to f32).
    ///
    /// Every key and shape is checked before the model changes (`openWeights`). With `trainable`, the model is set up
    /// for training as `attachLoRA` does (to resume); else trainability is unchanged.
    @discardableResult
    public static func load(from directory: URL, into model: DecoderModel, trainable: Bool = false) throws
        -> AdapterConfig {
        let config = try loadConfig(from: directory)
        let file = try openWeights(in: directory, config: config, expected: model.adapterTensorShapes(for: config.lora))
        try model.attachLoRA(config.lora, seed: 0, trainable: trainable)
        do {
            for (key, parameter) in try model.adapterParameters() {
                let loaded = try file.tensor(keyPrefix + key, on: model.backend, as: .f32)
                try model.backend.copy(loaded, to: parameter.value)
            }
        } catch {
            model.removeLoRA()
            throw error
        }
        return config
    }

    /// Opens `directory/adapter_model.safetensors` and checks that it holds exactly the `expected` tensors (the
    /// model's adapter keys without `keyPrefix`, and their shapes, as `DecoderModel.adapterTensorShapes` lists them):
    /// a tensor of the wrong shape (an adapter for another base model) fails naming the first such key with both
    /// shapes, then a missing tensor, then one the model has no place for. Loading and the export's merge both check
    /// through here.
    public static func openWeights(in directory: URL, config: AdapterConfig,
                                   expected: [(key: String, shape: [Int])]) throws -> SafetensorsFile {
        let url = directory.appendingPathComponent(weightsFileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let hasBin = FileManager.default.fileExists(atPath: directory.appendingPathComponent("adapter_model.bin").path)
            throw AdapterError.missingFile(path: url.path, hint: hasBin
                ? "only the pickle adapter_model.bin is there; re-save it with safe_serialization=True"
                : "a PEFT adapter directory holds \(configFileName) and \(weightsFileName)")
        }
        let file = try SafetensorsFile(url: url)
        let base = config.baseModelNameOrPath.map { " (\($0))" } ?? ""
        for (key, shape) in expected where file.contains(keyPrefix + key) {
            let stored = try file.info(keyPrefix + key).shape
            guard stored == shape else {
                throw AdapterError.shapeMismatch(
                    path: url.path, key: keyPrefix + key, expected: shape, got: stored,
                    hint: "this adapter was trained on another base model\(base)")
            }
        }
        if let missing = expected.first(where: { !file.contains(keyPrefix + $0.key) }) {
            throw AdapterError.missingTensor(path: url.path, key: keyPrefix + missing.key,
                                             hint: "the file does not match its \(configFileName)'s target_modules")
        }
        let keys = Set(expected.map { keyPrefix + $0.key })
        if let extra = file.names.first(where: { !keys.contains($0) }) {
            throw AdapterError.unexpectedTensor(
                path: url.path, key: extra, hint: "this adapter was trained on another base model\(base), "
                    + "or with target_modules that select more than this model has")
        }
        return file
    }
}
