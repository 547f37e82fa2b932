/// Tensor names of Llama-family models in GGUF and in Hugging Face checkpoints (gguf-py `tensor_mapping.py`;
/// FORMATS.md §6).
public enum GGUFTensorNames {
    /// GGUF names outside the blocks → HF keys.
    static let global: [String: String] = [
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    ]

    /// Per-block suffixes: `blk.N.<gguf>` → `model.layers.N.<hf>`.
    static let block: [String: String] = [
        "attn_norm.weight": "input_layernorm.weight",
        "attn_q.weight": "self_attn.q_proj.weight",
        "attn_q.bias": "self_attn.q_proj.bias",
        "attn_k.weight": "self_attn.k_proj.weight",
        "attn_k.bias": "self_attn.k_proj.bias",
        "attn_v.weight": "self_attn.v_proj.weight",
        "attn_v.bias": "self_attn.v_proj.bias",
        "attn_output.weight": "self_attn.o_proj.weight",
        "attn_output.bias": "self_attn.o_proj.bias",
        "attn_q_norm.weight": "self_attn.q_norm.weight",
        "attn_k_norm.weight": "self_attn.k_norm.weight",
        "ffn_norm.weight": "post_attention_layernorm.weight",
        "ffn_gate.weight": "mlp.gate_proj.weight",
        "ffn_gate.bias": "mlp.gate_proj.bias",
        "ffn_up.weight": "mlp.up_proj.weight",
        "ffn_up.bias": "mlp.up_proj.bias",
        "ffn_down.weight": "mlp.down_proj.weight",
        "ffn_down.bias": "mlp.down_proj.bias",
    ]

    /// GGUF tensors with no HF counterpart, dropped on load: llama.cpp's precomputed Llama 3.1 RoPE factors.
    public static let generated: Set<String> = ["rope_freqs.weight"]

    private static let reverseBlock = Dictionary(uniqueKeysWithValues: block.map { ($1, $0) })
    private static let reverseGlobal = Dictionary(uniqueKeysWithValues: global.map { ($1, $0) })

    /// The HF key of a GGUF tensor name, or nil when it has none (unknown or generated tensors).
    public static func huggingFaceName(_ gguf: String) -> String? {
        if let name = global[gguf] { return name }
        guard let (layer, suffix) = split(gguf, prefix: "blk."), let name = block[suffix] else { return nil }
        return "model.layers.\(layer).\(name)"
    }

    /// The GGUF name of an HF key, or nil when GGUF has none.
    public static func ggufName(_ huggingFace: String) -> String? {
        if let name = reverseGlobal[huggingFace] { return name }
        guard let (layer, suffix) = split(huggingFace, prefix: "model.layers."), let name = reverseBlock[suffix] else {
            return nil
        }
        return "blk.\(layer).\(name)"
    }

    /// `<prefix><digits>.<rest>` → (layer, rest).
    private static func split(_ name: String, prefix: String) -> (Int, String)? {
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0 else { return nil }
        return (layer, String(rest[rest.index(after: dot)...]))
    }
}
