import Foundation
import SwiftTuneCheckpoint
import SwiftTuneQuantization
import SwiftTuneTensor

extension DecoderModel {
    /// Loads an HF model directory: `config.json` plus `model.safetensors` or a sharded
    /// `model.safetensors.index.json`. Weights are converted to `precision.compute` on `backend`.
    ///
    /// With `fourBit` (QLoRA), each linear layer's weight is quantized as it is loaded, one at a time, so the dense
    /// model is never on the device whole. A pre-quantized bitsandbytes checkpoint (`*-bnb-4bit`: a weight stored with
    /// its quant state) keeps its 4-bit codes as they are, with or without `fourBit`.
    public static func load(directory: URL, backend: any Backend, precision: Precision = .f32,
                            fourBit: FourBitQuantization? = nil) throws -> DecoderModel {
        let config = try DecoderConfig.load(from: directory.appendingPathComponent("config.json"))
        let weights = try ModelWeights(directory: directory)
        let source = "\(directory.path) (\(weights.fileNames.joined(separator: ", ")))"
        return try DecoderModel(config: config, backend: backend, precision: precision,
                                source: source) { (name: String) -> ModelWeight? in
            if isLinearWeight(name), weights.contains(name), case let file = try weights.file(containing: name),
               file.isBitsAndBytes4Bit(name) {
                let stored = try file.bitsAndBytes4Bit(name)
                return .fourBit(try FourBitWeightTensors(stored.weight, on: backend))
            }
            guard weights.contains(name) else { return nil }
            let dense = try weights.tensor(name, on: backend, as: precision.compute)
            if let fourBit, isLinearWeight(name) {
                return .fourBit(try FourBitWeightTensors.quantize(dense, fourBit, name: name))
            }
            return .dense(dense)
        }
    }
}
