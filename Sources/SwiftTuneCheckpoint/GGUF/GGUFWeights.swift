import Foundation
import SwiftTuneFamilies
import SwiftTuneQuantization
import SwiftTuneTensor

/// The weights of a GGUF model under Hugging Face names, with the config read from its metadata: the same view
/// of a llama.cpp file that `ModelWeights` gives of a safetensors checkpoint.
///
/// Tensors are dequantized to f32 on load (`tensor`), or uploaded as their packed blocks (`blocks`) for a model that
/// keeps quantized linear weights. For architectures whose converter permuted the q/k rows (`llama`,
/// `mistral`; see `RotaryRowPermutation`) the HF row order is restored, so the weights work with HF-style
/// rotate-half RoPE; Qwen2/Qwen3 rows are left as stored.
///
/// ```swift
/// let weights = try GGUFWeights(url: gguf)
/// let model = try DecoderModel(config: weights.config, backend: backend, source: gguf.path) { name in
///     weights.contains(name) ? try weights.tensor(name, on: backend) : nil
/// }
/// ```
public final class GGUFWeights: Sendable {
    /// The file.
    public let file: GGUFFile
    /// The model config from the file's metadata (`DecoderConfig(gguf:)`).
    public let config: DecoderConfig
    /// Every HF key the file provides, sorted.
    public let names: [String]
    /// GGUF tensors with no HF counterpart: llama.cpp's generated `rope_freqs.weight` (read into the config) and
    /// any tensor this mapping does not know.
    public let unmappedTensors: [String]
    /// Whether q_proj/k_proj rows are put back into HF order on load.
    public let restoresRotaryRowOrder: Bool

    private let location: [String: String]

    /// Opens and validates the GGUF file at `url`.
    public convenience init(url: URL) throws(CheckpointError) {
        try self.init(file: GGUFFile(url: url))
    }

    /// Reads the config from `file` and maps its tensor names.
    public init(file: GGUFFile) throws(CheckpointError) {
        self.file = file
        config = try DecoderConfig(gguf: file)
        var location: [String: String] = [:]
        var unmapped: [String] = []
        for name in file.names {
            if let key = GGUFTensorNames.huggingFaceName(name) { location[key] = name } else { unmapped.append(name) }
        }
        self.location = location
        names = location.keys.sorted()
        unmappedTensors = unmapped
        restoresRotaryRowOrder = Self.permutesRotaryRows(architecture: file.architecture ?? "")
    }

    /// Architectures whose GGUF converter reorders q/k rows for ggml's interleaved RoPE (`LlamaModel.permute` in
    /// convert_hf_to_gguf.py; Mistral converts through the same class), as the family's entry says. Never qwen2 or
    /// qwen3 (NEOX RoPE).
    public static func permutesRotaryRows(architecture: String) -> Bool {
        ModelFamily(ggufArchitecture: architecture)?.ggufPermutesRotaryRows ?? false
    }

    /// Whether the file has HF key `name`.
    public func contains(_ name: String) -> Bool { location[name] != nil }

    /// The GGUF tensor behind HF key `name`.
    public func ggufName(for name: String) throws(CheckpointError) -> String {
        guard let gguf = location[name] else {
            throw .missingTensor(key: name, path: file.path, searched: [file.url.lastPathComponent])
        }
        return gguf
    }

    /// The values of HF key `name` as f32, row-major in HF's shape and row order.
    public func floats(_ name: String) throws(CheckpointError) -> [Float] {
        let gguf = try ggufName(for: name)
        let values = try file.floats(gguf)
        guard restoresRotaryRowOrder, let heads = rotaryHeads(name) else { return values }
        let info = try file.info(gguf)
        // A weight is [out, in] (rows = out); a bias [out] is `out` rows of one value.
        let (rows, rowLength) = info.dimensions.count == 1 ? (info.elementCount, 1) : (info.rowCount, info.rowLength)
        guard RotaryRowPermutation.applies(rows: rows, heads: heads) else {
            throw .invalidGGUF(path: file.path, key: "tensor \"\(gguf)\"",
                               expected: "\(heads) heads of an even width (rows a multiple of \(2 * heads))",
                               got: "\(rows) rows")
        }
        return RotaryRowPermutation.huggingFaceOrder(values, rows: rows, rowLength: rowLength, heads: heads)
    }

    /// Uploads HF key `name` to `backend` in HF's shape: f32, or bf16/f16 through `backend.cast`.
    public func tensor(_ name: String, on backend: any Backend, as dtype: DType = .f32) throws -> Tensor {
        let gguf = try ggufName(for: name)
        let loaded = try backend.tensor(try floats(name), shape: try file.info(gguf).shape)
        return dtype == .f32 ? loaded : try backend.converted(loaded, to: dtype)
    }

    /// Whether HF key `name` is stored in a block format (a type that is not plain f32/f16/bf16).
    public func isQuantized(_ name: String) throws(CheckpointError) -> Bool {
        ![.f32, .f16, .bf16, .f64].contains(try file.info(ggufName(for: name)).type)
    }

    /// Uploads HF key `name` as its stored bytes (u8, `rows · rowByteCount` bytes) in HF's row order, with its format:
    /// the blocks of a quantized `[out, in]` weight, for `Backend.dequantize` (rows are independent, so the q/k row
    /// order is restored by moving whole rows of bytes).
    public func blocks(_ name: String, on backend: any Backend) throws -> (format: BlockFormat, blocks: Tensor) {
        let gguf = try ggufName(for: name)
        let info = try file.info(gguf)
        let rowBytes = info.rowByteCount
        var bytes = try file.withBytes(gguf) { [UInt8]($0) }
        if restoresRotaryRowOrder, let heads = rotaryHeads(name), info.dimensions.count == 2 {
            guard RotaryRowPermutation.applies(rows: info.rowCount, heads: heads) else {
                throw CheckpointError.invalidGGUF(path: file.path, key: "tensor \"\(gguf)\"",
                                                  expected: "\(heads) heads of an even width", got: "\(info.rowCount) rows")
            }
            let source = RotaryRowPermutation.ggufRowsForHuggingFaceRows(rows: info.rowCount, heads: heads)
            let stored = bytes
            for row in 0..<info.rowCount {
                bytes[row * rowBytes ..< (row + 1) * rowBytes] = stored[source[row] * rowBytes ..< (source[row] + 1) * rowBytes]
            }
        }
        let tensor = try bytes.withUnsafeBytes { try backend.tensor(bytes: $0, shape: [bytes.count], dtype: .u8) }
        return (.ggml(info.type), tensor)
    }

    /// The head count the permutation uses for `name`: heads for q, kv heads for k, nil for other tensors.
    private func rotaryHeads(_ name: String) -> Int? {
        if name.hasSuffix(".self_attn.q_proj.weight") || name.hasSuffix(".self_attn.q_proj.bias") {
            return config.numAttentionHeads
        }
        if name.hasSuffix(".self_attn.k_proj.weight") || name.hasSuffix(".self_attn.k_proj.bias") {
            return config.numKeyValueHeads
        }
        return nil
    }
}
