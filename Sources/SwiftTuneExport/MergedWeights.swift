import Foundation
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneTensor

/// How much tensor data an export held at once: the structural check that merging streams (one tensor, plus one
/// module's adapter factors, at a time) rather than loading the model.
public struct ExportMemoryStatistics: Sendable, Equatable {
    /// The most bytes of tensor data alive at one moment (host arrays and backend tensors of the merge).
    public internal(set) var peakLiveBytes = 0
    /// The largest single tensor produced, in f32 bytes.
    public internal(set) var largestTensorBytes = 0
    /// Tensors produced (merged or copied).
    public internal(set) var tensorsProduced = 0
    /// f32 bytes of every tensor produced.
    public internal(set) var totalBytes = 0
}

/// The merged model's tensors by HF key, produced one at a time: the base tensor read from its mapped file, with
/// `W += scale · B·A` added on `backend` for an adapted module (exactly `Linear.mergeLoRA`'s matmul, so the result
/// equals merging in a loaded `DecoderModel`), or replaced by the adapter's `modules_to_save` copy. The merge is in f32,
/// whatever the base's storage (a GGUF base is dequantized first).
final class MergedWeights: @unchecked Sendable {
    let base: ExportBase
    let adapter: ExportAdapter?
    let backend: any Backend
    /// The config of the merged model: the base's, untied when the adapter trained one of tied embeddings in full
    /// (PEFT trains a copy, which unties them, unless `ensure_weight_tying`).
    let config: DecoderConfig
    private(set) var statistics = ExportMemoryStatistics()
    private var live = 0

    init(base: ExportBase, adapter: ExportAdapter?, backend: any Backend) {
        self.base = base
        self.adapter = adapter
        self.backend = backend
        var config = base.config
        if config.tieWordEmbeddings, let adapter, !adapter.config.lora.ensureWeightTying,
           adapter.savedParameters.contains("model.embed_tokens.weight") || adapter.savedParameters.contains("lm_head.weight") {
            config.tieWordEmbeddings = false
        }
        self.config = config
    }

    /// Every tensor of the merged model with its shape, in checkpoint order.
    var shapes: [(name: String, shape: [Int])] { DecoderModel.parameterShapes(for: config) }

    /// The merged values of `name` (f32, row-major, HF row order). Call `release` when done with them.
    func floats(_ name: String) throws -> [Float] {
        let values = try produce(name)
        statistics.tensorsProduced += 1
        statistics.totalBytes += values.count * 4
        statistics.largestTensorBytes = max(statistics.largestTensorBytes, values.count * 4)
        return values
    }

    /// Marks a tensor returned by `floats` as written and dropped.
    func release(_ values: [Float]) { track(-values.count * 4) }

    private func produce(_ name: String) throws -> [Float] {
        let tiedInBase = base.config.tieWordEmbeddings
        if let adapter {
            if adapter.savedParameters.contains(name) { return tracked(try adapter.savedParameter(name)) }
            // A tied pair under ensure_weight_tying: the one trained copy serves both names.
            if tiedInBase, config.tieWordEmbeddings, name == "model.embed_tokens.weight",
               adapter.savedParameters.contains("lm_head.weight") {
                return tracked(try adapter.savedParameter("lm_head.weight"))
            }
        }
        // lm_head of an untied copy of tied embeddings: the base embeddings.
        let source = name == "lm_head.weight" && tiedInBase ? "model.embed_tokens.weight" : name
        var values = tracked(try base.floats(source))
        guard let adapter, name.hasSuffix(".weight") else { return values }
        let module = String(name.dropLast(".weight".count))
        guard adapter.modules.contains(module) else { return values }
        let (a, b) = try adapter.factors(module)
        track(4 * (a.count + b.count))
        defer { track(-4 * (a.count + b.count)) }
        let rank = adapter.config.lora.rank, shape = try shape(of: name)
        let out = shape[0], inFeatures = shape[1]
        // W (out, in) += scale · B (out, r) · A (r, in), on the backend as Linear.mergeLoRA does.
        let weight = try backend.tensor(values, shape: [out, inFeatures])
        let left = try backend.tensor(b, shape: [out, rank]), right = try backend.tensor(a, shape: [rank, inFeatures])
        let deviceBytes = 4 * (values.count + a.count + b.count)
        track(deviceBytes)
        defer { track(-deviceBytes) }
        try backend.matmul(left, right, into: weight, transposeA: false, transposeB: false, alpha: Float(adapter.scale), beta: 1)
        let merged = try backend.floats(weight)
        values = merged
        return values
    }

    private func shape(of name: String) throws -> [Int] {
        guard let shape = shapes.first(where: { $0.name == name })?.shape else {
            throw CheckpointError.missingTensor(key: name, path: base.url.path, searched: ["the model's parameters"])
        }
        return shape
    }

    private func tracked(_ values: [Float]) -> [Float] {
        track(values.count * 4)
        return values
    }

    private func track(_ bytes: Int) {
        live += bytes
        statistics.peakLiveBytes = max(statistics.peakLiveBytes, live)
    }
}
