import Foundation
import SwiftTuneAdapters
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN

/// A PEFT LoRA adapter opened for merging: its config, and its tensors read one module at a time from the mapped
/// `adapter_model.safetensors`. Opening checks every key and shape against the base config first, so an adapter
/// trained on another base model fails before anything is written.
final class ExportAdapter: @unchecked Sendable {
    let directory: URL
    let config: AdapterConfig
    /// PEFT's scaling, `alpha / r` (or `alpha / √r` with rsLoRA).
    let scale: Double
    /// Modules with an adapter (`model.layers.0.self_attn.q_proj`).
    let modules: Set<String>
    /// `modules_to_save` parameters the adapter replaces in full (`lm_head.weight`).
    let savedParameters: Set<String>

    private let file: SafetensorsFile

    init(directory: URL, base: DecoderConfig) throws {
        self.directory = directory
        config = try LoRAAdapter.loadConfig(from: directory)
        let url = directory.appendingPathComponent(LoRAAdapter.weightsFileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw AdapterError.missingFile(path: url.path, hint: "a PEFT adapter directory holds \(LoRAAdapter.configFileName) "
                                           + "and \(LoRAAdapter.weightsFileName)")
        }
        let file = try SafetensorsFile(url: url)
        self.file = file
        let prefix = LoRAAdapter.keyPrefix
        let trainedOn = config.baseModelNameOrPath.map { " (it names \($0))" } ?? ""
        let expected = try DecoderModel.adapterTensorShapes(config: base, lora: config.lora)
        for (key, shape) in expected where file.contains(prefix + key) {
            let stored = try file.info(prefix + key).shape
            guard stored == shape else {
                throw AdapterError.shapeMismatch(path: url.path, key: prefix + key, expected: shape, got: stored,
                                                 hint: "this adapter was trained on another base model\(trainedOn)")
            }
        }
        if let missing = expected.first(where: { !file.contains(prefix + $0.key) }) {
            throw AdapterError.missingTensor(path: url.path, key: prefix + missing.key,
                                             hint: "the file does not match its \(LoRAAdapter.configFileName)'s target_modules")
        }
        let keys = Set(expected.map { prefix + $0.key })
        if let extra = file.names.first(where: { !keys.contains($0) }) {
            throw AdapterError.unexpectedTensor(path: url.path, key: extra,
                                                hint: "this adapter was trained on another base model\(trainedOn)")
        }
        scale = LoRA.scale(rank: config.lora.rank, alpha: config.lora.alpha, useRSLoRA: config.lora.useRSLoRA)
        var modules = Set<String>(), saved = Set<String>()
        for (key, _) in expected {
            if key.hasSuffix(".lora_A.weight") {
                modules.insert(String(key.dropLast(".lora_A.weight".count)))
            } else if !key.hasSuffix(".lora_B.weight") {
                saved.insert(key)
            }
        }
        self.modules = modules
        savedParameters = saved
    }

    /// `lora_A` `[r, in]` and `lora_B` `[out, r]` of `module`, as f32.
    func factors(_ module: String) throws -> (a: [Float], b: [Float]) {
        (try floats(LoRAAdapter.keyPrefix + module + ".lora_A.weight"),
         try floats(LoRAAdapter.keyPrefix + module + ".lora_B.weight"))
    }

    /// A `modules_to_save` parameter (`lm_head.weight`) as f32.
    func savedParameter(_ name: String) throws -> [Float] {
        try floats(LoRAAdapter.keyPrefix + name)
    }

    private func floats(_ key: String) throws -> [Float] {
        let info = try file.info(key)
        let count = info.shape.reduce(1, *)
        guard let dtype = info.dtype.tensorDType, dtype.isFloatingPoint else {
            throw CheckpointError.unsupportedConversion(path: file.path, key: key, from: info.dtype.rawValue, to: "F32")
        }
        return try file.withBytes(key) { bytes in
            (0..<count).map { i in
                switch dtype {
                case .bf16: Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                case .f16: Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                case .f64: Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                default: Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            }
        }
    }
}
