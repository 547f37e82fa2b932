"""Goldens for the generic decoder: tiny random Llama, Qwen2, Qwen3 and Mistral models from HF transformers.

For each family this writes, under OUT/<family>/:
  config.json, model.safetensors   the model exactly as `save_pretrained` writes it (float32)
  golden.safetensors               input_ids i32 [2, T], labels i32 [2, T] (-100 = ignored),
                                   logits f32 [2, T, V], loss f32 [1] (HF's mean over the shifted labels),
                                   hidden.<i> f32 [2, T, D] (embeddings, each layer's output, the final norm),
                                   grad.<param> f32 for every parameter (d loss / d param)
and OUT/manifest.json with the library versions, seeds and this script's sha256.

Runs on CPU in float32 with eager attention, so the numbers are exact references (no TF32, no fused kernels).
Pinned: torch 2.11.0, transformers 5.17.0 (the GPU machine's Python). Usage:
  python3 scripts/golden/make_decoder_goldens.py OUT_DIR
"""
import hashlib
import json
import os
import platform
import sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config

SEED = 1234
BATCH, SEQ = 2, 12

COMMON = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=128,
              rms_norm_eps=1e-6)

FAMILIES = {
    # Llama: untied embeddings, llama3 rope scaling with a small original context so the scaling matters.
    "llama": LlamaConfig(vocab_size=320, intermediate_size=160, num_key_value_heads=2, tie_word_embeddings=False,
                         rope_parameters=dict(rope_type="llama3", rope_theta=10000.0, factor=8.0, low_freq_factor=1.0,
                                              high_freq_factor=4.0, original_max_position_embeddings=16),
                         bos_token_id=1, eos_token_id=2, **COMMON),
    # Qwen2: q/k/v bias, tied embeddings.
    "qwen2": Qwen2Config(vocab_size=300, intermediate_size=128, num_key_value_heads=2, tie_word_embeddings=True,
                         rope_parameters=dict(rope_type="default", rope_theta=1000000.0), bos_token_id=1, eos_token_id=2, **COMMON),
    # Qwen3: q/k RMSNorm, an explicit head_dim that differs from hidden/heads, untied.
    "qwen3": Qwen3Config(vocab_size=288, intermediate_size=128, num_key_value_heads=2, head_dim=32,
                         tie_word_embeddings=False,
                         rope_parameters=dict(rope_type="default", rope_theta=1000000.0), bos_token_id=1, eos_token_id=2, **COMMON),
    # Mistral: one kv head (MQA) and a sliding window shorter than the input.
    "mistral": MistralConfig(vocab_size=256, intermediate_size=128, num_key_value_heads=1, sliding_window=5,
                             rope_parameters=dict(rope_type="default", rope_theta=10000.0), bos_token_id=1, eos_token_id=2, **COMMON),
}


def randomize(model, generator):
    """Replaces HF's init (tiny weights, unit norms, zero biases) with values that exercise every path."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.08 * torch.randn(p.shape, generator=generator))


def make(family, config, out_dir):
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32, attn_implementation="eager")
    randomize(model, generator)
    model.eval()  # no dropout; gradients are still computed
    print(family, "rope:", model.config.rope_parameters, "sliding_window:", getattr(model.config, "sliding_window", None))

    input_ids = torch.randint(3, config.vocab_size, (BATCH, SEQ), generator=generator)
    labels = input_ids.clone()
    labels[0, :4] = -100  # a prompt that is not trained on
    labels[1, 7] = -100   # a hole in the middle

    out = model(input_ids=input_ids, labels=labels, output_hidden_states=True)
    out.loss.backward()

    path = os.path.join(out_dir, family)
    os.makedirs(path, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    tensors = {
        "input_ids": input_ids.to(torch.int32),
        "labels": labels.to(torch.int32),
        "logits": out.logits.detach().float().contiguous(),
        "loss": out.loss.detach().reshape(1).float(),
    }
    for i, h in enumerate(out.hidden_states):
        tensors[f"hidden.{i}"] = h.detach().float().contiguous()
    for name, p in model.named_parameters():
        tensors[f"grad.{name}"] = p.grad.detach().float().contiguous()
    save_file(tensors, os.path.join(path, "golden.safetensors"), metadata={"family": family, "seed": str(SEED)})
    print(f"{family}: loss {out.loss.item():.6f}, {sum(p.numel() for p in model.parameters())} parameters")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/golden"
    torch.use_deterministic_algorithms(True)
    for family, config in FAMILIES.items():
        make(family, config, out_dir)
    with open(__file__, "rb") as f:
        script_hash = hashlib.sha256(f.read()).hexdigest()
    manifest = dict(script="scripts/golden/make_decoder_goldens.py", script_sha256=script_hash, seed=SEED,
                    batch=BATCH, seq=SEQ, python=platform.python_version(), torch=torch.__version__,
                    transformers=transformers.__version__, device="cpu", dtype="float32", attention="eager",
                    families=list(FAMILIES))
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main()
