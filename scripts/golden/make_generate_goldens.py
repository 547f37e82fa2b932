"""Greedy-decoding goldens: HF transformers' `generate` token ids for the tiny golden decoders.

For each case this writes OUT/<case>.json:
  {"case", "family", "adapter", "max_new_tokens",
   "prompts":   [[ids of golden.safetensors input_ids row 0], [row 1]],
   "generated": [[64 new ids for prompt 0], [64 for prompt 1]],
   "min_margin": [per prompt: the smallest gap between the two largest logits over the 64 steps],
   "teacher_forced_argmax_agrees": [per prompt: true when a full forward pass picks the same tokens]}
Cases: llama, qwen2, qwen3, mistral (Tests/Fixtures/golden/<family>), and qwen2_swift_adapter (qwen2 with the
swift-tune adapter Tests/Fixtures/lora/swift_adapter applied through peft.PeftModel.from_pretrained, unmerged).
Then OUT/manifest.json (library versions, settings, this script's sha256).

Decoding: model.generate(input_ids=prompt[None], max_new_tokens=64, do_sample=False, num_beams=1), one prompt at a
time (no padding). No EOS stop: eos_token_id is set to None in the model's generation_config and in the call, so
exactly 64 tokens come (checked; min_new_tokens is not used because it would change the logits). Each run is
checked against a teacher-forced forward pass over prompt + answer: the argmax at every step should be the token
generate chose (recorded as teacher_forced_argmax_agrees; only a near-tie, see min_margin, can break it). Runs on CPU in float32 with eager attention and deterministic algorithms.
Pinned: torch 2.11.0, transformers 5.17.0, peft 0.21.0 (the GPU machine's Python). Usage, from the repository root:
  python3 scripts/golden/make_generate_goldens.py [OUT_DIR]        (default Tests/Fixtures/generate)
"""
import hashlib
import json
import os
import platform
import sys

import peft
import torch
import transformers
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

GOLDEN_DIR = "Tests/Fixtures/golden"
ADAPTER_DIR = "Tests/Fixtures/lora/swift_adapter"
NEW_TOKENS = 64
CASES = [("llama", "llama", None), ("qwen2", "qwen2", None), ("qwen3", "qwen3", None), ("mistral", "mistral", None),
         ("qwen2_swift_adapter", "qwen2", ADAPTER_DIR)]


def load(family, adapter):
    model = AutoModelForCausalLM.from_pretrained(os.path.join(GOLDEN_DIR, family), dtype=torch.float32,
                                                 attn_implementation="eager")
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    if adapter is not None:
        model = peft.PeftModel.from_pretrained(model, adapter)
    model.eval()
    return model


def greedy(model, prompt):
    with torch.no_grad():
        out = model.generate(input_ids=prompt[None], attention_mask=torch.ones_like(prompt)[None],
                             max_new_tokens=NEW_TOKENS, do_sample=False, num_beams=1, eos_token_id=None,
                             pad_token_id=0)
    new = out[0, prompt.shape[0]:]
    if new.shape[0] != NEW_TOKENS:
        sys.exit(f"generate returned {new.shape[0]} new tokens, expected {NEW_TOKENS}: it stopped early "
                 "(an EOS stop was not switched off); the goldens would be wrong, so nothing is written")
    # Teacher-forced check: the logits at each step's position must pick the token generate picked.
    with torch.no_grad():
        logits = model(input_ids=out).logits[0, prompt.shape[0] - 1:-1].float()
    picked = logits.argmax(dim=-1)
    agrees = bool(torch.equal(picked, new))
    if not agrees:  # only a near-tie can do this (cached vs uncached rounding); recorded, and said loudly
        step = int((picked != new).nonzero()[0])
        print(f"WARNING: generate's token at step {step} ({int(new[step])}) is not the argmax of a full forward "
              f"pass ({int(picked[step])})", file=sys.stderr)
    top2 = logits.topk(2, dim=-1).values
    return [int(t) for t in new], float((top2[:, 0] - top2[:, 1]).min()), agrees


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/generate"
    os.makedirs(out_dir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)
    for case, family, adapter in CASES:
        model = load(family, adapter)
        prompts = load_file(os.path.join(GOLDEN_DIR, family, "golden.safetensors"))["input_ids"].long()
        generated, margins, agreement = [], [], []
        for prompt in prompts:
            ids, margin, agrees = greedy(model, prompt)
            generated.append(ids)
            margins.append(margin)
            agreement.append(agrees)
        record = dict(case=case, family=family, adapter=adapter, max_new_tokens=NEW_TOKENS,
                      prompts=[[int(t) for t in p] for p in prompts], generated=generated, min_margin=margins,
                      teacher_forced_argmax_agrees=agreement)
        with open(os.path.join(out_dir, f"{case}.json"), "w") as f:
            json.dump(record, f, indent=1)
        print(f"{case}: {len(prompts)} prompts x {NEW_TOKENS} tokens, smallest top-2 logit gap {min(margins):.2e}")
    with open(__file__, "rb") as f:
        script_hash = hashlib.sha256(f.read()).hexdigest()
    manifest = dict(script="scripts/golden/make_generate_goldens.py", script_sha256=script_hash,
                    python=platform.python_version(), torch=torch.__version__, transformers=transformers.__version__,
                    peft=peft.__version__, device="cpu", dtype="float32", attention="eager", do_sample=False,
                    max_new_tokens=NEW_TOKENS, eos_stop=False, cases=[c for c, _, _ in CASES])
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main()
