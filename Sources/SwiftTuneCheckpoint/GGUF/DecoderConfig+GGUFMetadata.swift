import Foundation
import SwiftTuneFamilies

extension DecoderConfig {
    /// The `general.architecture` llama.cpp uses for this family: `llama` for Llama and Mistral (llama.cpp's converter
    /// writes Mistral as llama), `qwen2`, `qwen3` (the family's `ggufArchitecture`).
    public var ggufArchitecture: String { modelType.ggufArchitecture }

    /// Whether the GGUF stores q/k rows in ggml's interleaved RoPE order (see `RotaryRowPermutation`).
    public var ggufPermutesRotaryRows: Bool { modelType.ggufPermutesRotaryRows }

    /// The `{arch}.*` hyperparameters as llama.cpp's `convert_hf_to_gguf.py` writes them, the reverse of
    /// `init(gguf:)` (FORMATS.md §1): counts as u32, ε and θ as f32, `rope.dimension_count` and `vocab_size` for
    /// llama, key/value lengths where the head width is not hidden/heads, and linear or YaRN scaling keys.
    /// Llama 3 scaling has no keys: it travels as the `rope_freqs.weight` tensor (`ggufRopeFrequencyFactors`).
    ///
    /// - Throws: `invalidValue` for dynamic NTK scaling, which llama.cpp has no key for.
    public func ggufMetadata() throws(CheckpointError) -> [(key: String, value: GGUFValue)] {
        let arch = ggufArchitecture
        func u32(_ value: Int) -> GGUFValue { .uint32(UInt32(clamping: value)) }
        var entries: [(String, GGUFValue)] = [
            ("\(arch).block_count", u32(numHiddenLayers)),
            ("\(arch).context_length", u32(maxPositionEmbeddings)),
            ("\(arch).embedding_length", u32(hiddenSize)),
            ("\(arch).feed_forward_length", u32(intermediateSize)),
            ("\(arch).attention.head_count", u32(numAttentionHeads)),
            ("\(arch).attention.head_count_kv", u32(numKeyValueHeads)),
            ("\(arch).rope.freq_base", .float32(Float(ropeTheta))),
            ("\(arch).attention.layer_norm_rms_epsilon", .float32(Float(rmsNormEps))),
        ]
        if headDim * numAttentionHeads != hiddenSize {
            entries += [("\(arch).attention.key_length", u32(headDim)), ("\(arch).attention.value_length", u32(headDim))]
        }
        if arch == "llama" {  // LlamaModel.set_gguf_parameters writes these; the Qwen converters do not
            entries += [("\(arch).vocab_size", u32(vocabSize)), ("\(arch).rope.dimension_count", u32(headDim))]
        }
        switch ropeScaling {
        case .none, .llama3:
            break
        case let .linear(factor):
            entries += [("\(arch).rope.scaling.type", .string("linear")), ("\(arch).rope.scaling.factor", .float32(Float(factor)))]
        case let .yarn(factor, original, betaFast, betaSlow, attentionFactor):
            entries += [("\(arch).rope.scaling.type", .string("yarn")),
                        ("\(arch).rope.scaling.factor", .float32(Float(factor))),
                        ("\(arch).rope.scaling.original_context_length", u32(original)),
                        ("\(arch).rope.scaling.attn_factor", .float32(Float(attentionFactor))),
                        ("\(arch).rope.scaling.yarn_beta_fast", .float32(Float(betaFast))),
                        ("\(arch).rope.scaling.yarn_beta_slow", .float32(Float(betaSlow)))]
        case .dynamic:
            throw .invalidValue(path: "config", key: "rope_scaling.rope_type",
                                reason: "is \"dynamic\", which llama.cpp's GGUF has no setting for")
        }
        return entries.map { (key: $0.0, value: $0.1) }
    }

    /// The per-frequency divisors llama.cpp stores as `rope_freqs.weight` for Llama 3 scaling (nil for any other),
    /// computed in f32 in the order `LlamaModel.generate_extra_tensors` computes them: with
    /// λᵢ = 2π·θ^(2i/hd), 1 below `original / high`, `factor` above `original / low`, else
    /// `1 / ((1 − s)/factor + s)` with `s = (original/λ − low) / (high − low)`.
    public func ggufRopeFrequencyFactors() -> [Float]? {
        guard case let .llama3(factor, low, high, original) = ropeScaling else { return nil }
        let (f, lo, hi, context) = (Float(factor), Float(low), Float(high), Float(original))
        let lowWavelength = context / lo, highWavelength = context / hi
        return stride(from: 0, to: headDim, by: 2).map { i in
            let frequency = 1 / pow(Float(ropeTheta), Float(i) / Float(headDim))
            let wavelength = 2 * Float.pi / frequency
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return f }
            let smooth = (context / wavelength - lo) / (hi - lo)
            return 1 / ((1 - smooth) / f + smooth)
        }
    }
}
