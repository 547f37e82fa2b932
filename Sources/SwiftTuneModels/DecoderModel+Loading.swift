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
    ///
    /// With `offloadEmbedding`, the input embedding table stays in host memory (`Backend.allocateInHostMemory`), read
    /// in place a token row at a time; a model whose lm_head shares the table (`tie_word_embeddings`) keeps it on the
    /// device, since the lm_head product reads all of it.
    public static func load(directory: URL, backend: any Backend, precision: Precision = .f32,
                            fourBit: FourBitQuantization? = nil, offloadEmbedding: Bool = false) throws -> DecoderModel {
        let config = try DecoderConfig.load(from: directory.appendingPathComponent("config.json"))
        if offloadEmbedding, config.tieWordEmbeddings {
            throw ModelError.unsupportedConfig(key: "tie_word_embeddings", value: "true",
                                               hint: "the lm_head shares the embedding table and reads all of it every step, so "
                                                   + "it stays on the device: drop --offload_embedding for this model")
        }
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
            if offloadEmbedding, name == "model.embed_tokens.weight" {
                return .dense(try hostResident(name, weights, backend: backend, dtype: precision.compute))
            }
            let dense = try weights.tensor(name, on: backend, as: precision.compute)
            if let fourBit, isLinearWeight(name) {
                return .fourBit(try FourBitWeightTensors.quantize(dense, fourBit, name: name))
            }
            return .dense(dense)
        }
    }

    /// Checkpoint tensor `name` in `backend`'s host memory: the file's bytes copied in when they are already `dtype`,
    /// else converted on the device first.
    private static func hostResident(_ name: String, _ weights: ModelWeights, backend: any Backend,
                                     dtype: DType) throws -> Tensor {
        let info = try weights.info(name)
        let resident = try backend.allocateInHostMemory(shape: info.shape, dtype: dtype)
        if info.dtype.tensorDType == dtype {
            try weights.withBytes(name) { try backend.upload($0, to: resident) }
        } else {
            try backend.copy(weights.tensor(name, on: backend, as: dtype), to: resident)
        }
        return resident
    }
}
