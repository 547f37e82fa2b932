import Foundation
import SwiftTuneCheckpoint
import SwiftTuneTensor

extension DecoderModel {
    /// Loads an HF model directory: `config.json` plus `model.safetensors` or a sharded
    /// `model.safetensors.index.json`. Weights are converted to `precision.compute` on `backend`.
    public static func load(directory: URL, backend: any Backend, precision: Precision = .f32) throws -> DecoderModel {
        let config = try DecoderConfig.load(from: directory.appendingPathComponent("config.json"))
        let weights = try ModelWeights(directory: directory)
        let source = "\(directory.path) (\(weights.fileNames.joined(separator: ", ")))"
        return try DecoderModel(config: config, backend: backend, precision: precision, source: source) { name in
            weights.contains(name) ? try weights.tensor(name, on: backend, as: precision.compute) : nil
        }
    }
}
