import Foundation
import SwiftTuneCheckpoint
import SwiftTuneTensor

/// What a loader does with weights that a checkpoint stores in a block format (GGUF's quant types).
public enum QuantizedWeightLoading: Sendable, Equatable {
    /// Decode every weight into the compute dtype at load time (the default: fastest products, most memory).
    case dequantize
    /// Keep the linear layers' quantized weights packed on the device (decoded per product); every other weight and
    /// every plain-float weight is loaded dense.
    case keepLinearLayers
}

extension DecoderModel {
    /// Loads a llama.cpp GGUF model: the config from its metadata, the weights under their HF names (q/k rows
    /// restored for `llama`; see `GGUFWeights`), dequantized to `precision.compute` unless `quantized` keeps them.
    public static func load(gguf url: URL, backend: any Backend, precision: Precision = .f32,
                            quantized: QuantizedWeightLoading = .dequantize) throws -> DecoderModel {
        try load(gguf: GGUFWeights(url: url), backend: backend, precision: precision, quantized: quantized)
    }

    /// Builds the model from already opened GGUF weights.
    public static func load(gguf weights: GGUFWeights, backend: any Backend, precision: Precision = .f32,
                            quantized: QuantizedWeightLoading = .dequantize) throws -> DecoderModel {
        try DecoderModel(config: weights.config, backend: backend, precision: precision,
                         source: weights.file.path) { (name: String) -> ModelWeight? in
            guard weights.contains(name) else { return nil }
            if quantized == .keepLinearLayers, isLinearWeight(name), try weights.isQuantized(name) {
                let (format, blocks) = try weights.blocks(name, on: backend)
                return .quantized(format: format, blocks: blocks)
            }
            return .dense(try weights.tensor(name, on: backend, as: precision.compute))
        }
    }
}
