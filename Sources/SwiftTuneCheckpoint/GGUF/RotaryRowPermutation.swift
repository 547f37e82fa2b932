/// The row order llama.cpp's converter gives q_proj and k_proj of `llama`-architecture models, and its inverse.
///
/// HF applies RoPE with rotate-half, pairing (x[i], x[i + hd/2]) of each head; ggml's `llama` pairs
/// (x[2i], x[2i+1]). `convert_hf_to_gguf.py` (`LlamaModel.permute`) therefore reorders the output rows of q and k
/// (weights and biases) per head: viewed as `[heads, 2, hd/2]` the last two axes are swapped, so
///
///     gguf_row[h·hd + 2i + j] = hf_row[h·hd + j·(hd/2) + i],   i < hd/2, j ∈ {0, 1}
///
/// with heads = n_head for q and n_head_kv for k (FORMATS.md §6). Only whole rows move and quant blocks lie
/// within rows, so the same order applies to quantized bytes. Qwen2/Qwen3 GGUFs use ggml's NEOX RoPE, which is
/// rotate-half, and are not permuted.
public enum RotaryRowPermutation {
    /// For each HF row, the GGUF row that holds it (`rows` = heads · headDim, headDim even).
    public static func ggufRowsForHuggingFaceRows(rows: Int, heads: Int) -> [Int] {
        let headDim = rows / heads, half = headDim / 2
        var order = [Int](repeating: 0, count: rows)
        for h in 0..<heads {
            for j in 0..<2 {
                for i in 0..<half { order[h * headDim + j * half + i] = h * headDim + 2 * i + j }
            }
        }
        return order
    }

    /// HF rows from GGUF rows: `values` holds `rows` rows of `rowLength` elements in GGUF order.
    public static func huggingFaceOrder<Element>(_ values: [Element], rows: Int, rowLength: Int, heads: Int) -> [Element] {
        let source = ggufRowsForHuggingFaceRows(rows: rows, heads: heads)
        var result: [Element] = []
        result.reserveCapacity(values.count)
        for row in 0..<rows {
            result.append(contentsOf: values[source[row] * rowLength ..< (source[row] + 1) * rowLength])
        }
        return result
    }

    /// GGUF rows from HF rows (what the converter does), for tests and for writing GGUF.
    public static func ggufOrder<Element>(_ values: [Element], rows: Int, rowLength: Int, heads: Int) -> [Element] {
        let source = ggufRowsForHuggingFaceRows(rows: rows, heads: heads)
        var result = values
        for row in 0..<rows {
            result[source[row] * rowLength ..< (source[row] + 1) * rowLength] = values[row * rowLength ..< (row + 1) * rowLength]
        }
        return result
    }

    /// Whether `rows` rows split into `heads` heads of an even width, as the permutation needs.
    public static func applies(rows: Int, heads: Int) -> Bool {
        heads > 0 && rows % heads == 0 && (rows / heads) % 2 == 0
    }
}
