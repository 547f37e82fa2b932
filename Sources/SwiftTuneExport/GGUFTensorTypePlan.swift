import SwiftTuneQuantization
import SwiftTuneCheckpoint

/// A tensor whose shape cannot use the type the file type asks for, and what it got instead.
public struct GGUFTypeFallback: Sendable, Equatable, CustomStringConvertible {
    public let tensor: String
    public let wanted: GGMLType
    public let used: GGMLType
    /// ne[0], the row length that is not a whole number of `wanted` blocks.
    public let rowLength: Int

    public var description: String {
        "\(tensor): rows of \(rowLength) are not divisible by \(wanted.blockSize) (required for \(wanted)) → \(used)"
    }
}

/// The type of each tensor of an exported GGUF, chosen as llama.cpp chooses it (`llama_tensor_get_type` in
/// src/llama-quant.cpp, and convert_hf_to_gguf.py for f32/f16/bf16), so a file quantized here has the types
/// `llama-quantize` gives the same model:
///
/// - norms (`*_norm.weight`), biases and every 1-D tensor stay F32;
/// - f32/f16/bf16: every other tensor in that type;
/// - quantized types: the output (or, with tied embeddings, `token_embd`) is Q6_K (Q8_0 stays Q8_0; Q8_0 when
///   rows are not whole blocks of the base type); with Q4_K (llama.cpp's Q4_K_M) `attn_v` and `ffn_down` of the
///   layers `use_more_bits` picks (the first and last eighth, and every third in between) are Q6_K;
/// - a type whose blocks do not divide the rows falls back per tensor (Q4_K → Q5_0, Q6_K → Q8_0, then F16),
///   recorded in `fallbacks`.
///
/// Counters run in llama-quantize's tensor order (`GGUFExport.tensorOrder`): globals by name, then blocks by index.
struct GGUFTensorTypePlan {
    /// The type of each GGUF tensor name.
    private(set) var types: [String: GGMLType] = [:]
    private(set) var fallbacks: [GGUFTypeFallback] = []
    /// `general.file_type` (llama.cpp's `llama_ftype`).
    let fileType: UInt32

    /// - Parameters:
    ///   - tensors: GGUF names and `ne` (innermost first), in the order they are written.
    ///   - tiedEmbeddings: no `output.weight`, so `token_embd` is the output.
    init(tensors: [(name: String, dimensions: [Int])], type: ExportOptions.GGUFType, tiedEmbeddings: Bool) {
        let base: GGMLType
        switch type {
        case .f32: (base, fileType) = (.f32, 0)
        case .f16: (base, fileType) = (.f16, 1)
        case .bf16: (base, fileType) = (.bf16, 32)
        case .q8_0: (base, fileType) = (.q8_0, 7)
        case .q4_0: (base, fileType) = (.q4_0, 2)
        case .q4_1: (base, fileType) = (.q4_1, 3)
        case .q4K: (base, fileType) = (.q4K, 15)
        case .q6K: (base, fileType) = (.q6K, 18)
        }
        let quantized = ![.f32, .f16, .bf16].contains(base)
        let valueCount = tensors.filter { $0.name.hasSuffix(".attn_v.weight") }.count
        let downCount = tensors.filter { $0.name.hasSuffix(".ffn_down.weight") }.count
        var valueIndex = 0, downIndex = 0
        func moreBits(_ i: Int, _ n: Int) -> Bool { i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2 }
        for (name, dimensions) in tensors {
            let rowLength = dimensions.first ?? 1
            guard dimensions.count >= 2, name.hasSuffix(".weight"), !name.hasSuffix("_norm.weight"),
                  name != "rope_freqs.weight" else {
                types[name] = .f32
                continue
            }
            guard quantized else {
                types[name] = base
                continue
            }
            var wanted = base
            if name == "output.weight" || (tiedEmbeddings && name == "token_embd.weight") {
                if rowLength % base.blockSize != 0 {
                    wanted = .q8_0
                } else if base != .q8_0 {
                    wanted = .q6K
                }
            } else if name.hasSuffix(".attn_v.weight") {
                if type == .q4K && moreBits(valueIndex, valueCount) { wanted = .q6K }
                valueIndex += 1
            } else if name.hasSuffix(".ffn_down.weight") {
                if type == .q4K && moreBits(downIndex, downCount) { wanted = .q6K }
                downIndex += 1
            }
            types[name] = fallback(name, wanted, rowLength)
        }
    }

    /// `tensor_type_fallback`: a type whose blocks do not divide the rows gives way to a 32-block one, then to F16.
    private mutating func fallback(_ name: String, _ wanted: GGMLType, _ rowLength: Int) -> GGMLType {
        guard rowLength % wanted.blockSize != 0 else { return wanted }
        var used: GGMLType
        switch wanted {
        case .q4K: used = .q5_0
        case .q6K: used = .q8_0
        default: used = wanted
        }
        if rowLength % used.blockSize != 0 { used = .f16 }
        fallbacks.append(GGUFTypeFallback(tensor: name, wanted: wanted, used: used, rowLength: rowLength))
        return used
    }
}
