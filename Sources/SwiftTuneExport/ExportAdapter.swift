import Foundation
import SwiftTuneAdapters
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN

/// A PEFT LoRA adapter opened for merging: its config, and its tensors read one module at a time from the mapped
/// `adapter_model.safetensors`. Opening checks every key and shape against the base config first
/// (`LoRAAdapter.openWeights`, as loading does), so an adapter trained on another base model fails before anything is
/// written.
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
        let expected = try DecoderModel.adapterTensorShapes(config: base, lora: config.lora)
        file = try LoRAAdapter.openWeights(in: directory, config: config, expected: expected)
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
