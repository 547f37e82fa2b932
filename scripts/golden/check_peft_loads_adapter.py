"""Checks that an adapter written by swift-tune loads with PEFT and gives swift-tune's logits.

Loads Tests/Fixtures/golden/qwen2 with transformers, applies Tests/Fixtures/lora/swift_adapter with
`PeftModel.from_pretrained`, runs the golden batch and compares the logits with
Tests/Fixtures/lora/swift_adapter_logits.safetensors (written by swift-tune). Prints PASS or FAIL and exits 1 on
FAIL. Pinned: torch 2.11.0, transformers 5.17.0, peft 0.21.0 (the GPU machine's Python); CPU, f32, eager.
"""
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

BASE = "Tests/Fixtures/golden/qwen2"
ADAPTER = "Tests/Fixtures/lora/swift_adapter"


def main():
    base = AutoModelForCausalLM.from_pretrained(BASE, dtype=torch.float32, attn_implementation="eager")
    model = PeftModel.from_pretrained(base, ADAPTER)
    model.eval()
    ids = load_file(f"{BASE}/golden.safetensors")["input_ids"].long()
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    expected = load_file("Tests/Fixtures/lora/swift_adapter_logits.safetensors")["logits"]
    rel = ((logits - expected).abs().max() / expected.abs().max()).item()
    ok = rel <= 1e-4
    print(f"peft loads the swift-tune adapter: logits rel. error {rel:.2e} (tolerance 1e-4) {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
