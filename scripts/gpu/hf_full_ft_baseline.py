#!/usr/bin/env python3
"""Reference for the 1.5B full fine-tuning benchmark: PyTorch the way HF Trainer runs `bf16=True` full training.

f32 master weights, bf16 autocast for the forward and backward (torch.autocast, as Trainer's AMP does), fused
AdamW on f32 state, gradient checkpointing, batch 1, rows of --seq random ids with every token scored. Makes the
random-init Qwen2-1.5B-shaped model once (bf16 safetensors under --model-dir, the same files swift-tune loads).

  python3 scripts/gpu/hf_full_ft_baseline.py --seq 2048 --steps 8 --model-dir /tmp/qwen2-1.5b-random

Prints `RESULT {json}`: tokens/s (median of the steps after two warm-ups) and peak allocated memory.
"""
import argparse, json, os, time

import torch
from transformers import AutoModelForCausalLM, Qwen2Config

QWEN2_1P5B = dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                  num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rope_theta=1e6,
                  rms_norm_eps=1e-6, tie_word_embeddings=True)


def make_random_model(path):
    if os.path.exists(os.path.join(path, "config.json")):
        return
    t = time.time()
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(Qwen2Config(**QWEN2_1P5B), dtype=torch.bfloat16)
    model.save_pretrained(path)
    del model
    torch.cuda.empty_cache()
    print(f"made random Qwen2-1.5B-shaped model in {time.time() - t:.1f}s", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--model-dir", default="/tmp/qwen2-1.5b-random")
    args = ap.parse_args()
    make_random_model(args.model_dir)
    torch.cuda.reset_peak_memory_stats()
    model = AutoModelForCausalLM.from_pretrained(args.model_dir, dtype=torch.float32, device_map={"": 0},
                                                 attn_implementation="sdpa")
    model.train()
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)
    gen = torch.Generator(device="cuda").manual_seed(0)
    times = []
    for step in range(args.steps):
        ids = torch.randint(0, QWEN2_1P5B["vocab_size"], (1, args.seq), device="cuda", generator=gen)
        torch.cuda.synchronize()
        t = time.time()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        times.append(time.time() - t)
        print(f"step {step} loss {loss.item():.4f} {times[-1] * 1000:.0f} ms", flush=True)
    timed = sorted(times[2:])
    median = timed[len(timed) // 2]
    print("RESULT", json.dumps(dict(
        mode="full", seq=args.seq, median_step_s=round(median, 4), tokens_per_s=round(args.seq / median, 1),
        peak_allocated_gib=round(torch.cuda.max_memory_allocated() / 2**30, 3),
        peak_reserved_gib=round(torch.cuda.max_memory_reserved() / 2**30, 3), torch=torch.__version__)), flush=True)


if __name__ == "__main__":
    main()
