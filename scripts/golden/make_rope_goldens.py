"""Goldens for RoPE frequencies: HF transformers' inverse frequencies and attention scaling per rope type.

Writes OUT/rope.json: a list of {"config": {...config.json keys...}, "inv_freq": [...], "attention_scaling": x}.
Pinned: transformers 5.17.0, torch 2.11.0. Usage: python3 scripts/golden/make_rope_goldens.py OUT_DIR
"""
import json
import os
import sys

import transformers
from transformers import LlamaConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

BASE = dict(model_type="llama", vocab_size=256, hidden_size=128, intermediate_size=256, num_hidden_layers=1,
            num_attention_heads=2, num_key_value_heads=2, rms_norm_eps=1e-6, max_position_embeddings=4096)

CASES = [
    dict(rope_type="default", rope_theta=10000.0),
    dict(rope_type="linear", rope_theta=10000.0, factor=4.0),
    dict(rope_type="llama3", rope_theta=500000.0, factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
         original_max_position_embeddings=8192),
    dict(rope_type="yarn", rope_theta=1000000.0, factor=4.0, original_max_position_embeddings=1024),
    dict(rope_type="yarn", rope_theta=10000.0, factor=8.0, original_max_position_embeddings=512, beta_fast=16.0,
         beta_slow=2.0, attention_factor=1.25),
]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/golden"
    results = []
    for params in CASES:
        config = LlamaConfig(rope_parameters=dict(params), **{k: v for k, v in BASE.items() if k != "model_type"})
        rope_type = config.rope_parameters["rope_type"]
        fn = ROPE_INIT_FUNCTIONS.get(rope_type)
        if fn is None:  # transformers 5 keeps the default on the model's rotary class
            from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
            fn = LlamaRotaryEmbedding.compute_default_rope_parameters
        inv_freq, scaling = fn(config, "cpu")
        saved = dict(BASE, rope_parameters=config.rope_parameters, transformers_version=transformers.__version__)
        results.append(dict(config=saved, inv_freq=[float(x) for x in inv_freq], attention_scaling=float(scaling)))
        print(rope_type, "scaling", float(scaling), "first", [round(float(x), 6) for x in inv_freq[:3]])
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "rope.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
