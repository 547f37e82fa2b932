import Foundation
import SwiftTuneCheckpoint
import SwiftTuneTensor

extension DecoderModel {
    /// Loads a llama.cpp GGUF model: the config from its metadata, the weights dequantized to f32 on `backend`
    /// under their HF names (q/k rows restored for `llama`; see `GGUFWeights`).
    public static func load(gguf url: URL, backend: any Backend) throws -> DecoderModel {
        try load(gguf: GGUFWeights(url: url), backend: backend)
    }

    /// Builds the model from already opened GGUF weights.
    public static func load(gguf weights: GGUFWeights, backend: any Backend) throws -> DecoderModel {
        try DecoderModel(config: weights.config, backend: backend, source: weights.file.path) { name in
            weights.contains(name) ? try weights.tensor(name, on: backend, as: .f32) : nil
        }
    }
}
