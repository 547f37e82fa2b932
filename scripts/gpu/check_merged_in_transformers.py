"""Checks that models merged by `swift-tune export --merge_lora true` load in transformers and give swift-tune's
logits for the base model with the adapter unmerged.

For each family in Tests/Fixtures/export/merged/ (qwen2: the golden with Tests/Fixtures/lora/swift_adapter merged;
llama: the golden with a seeded adapter made by MergeExportTests), loads the merged folder with
AutoModelForCausalLM (f32, eager, CPU), runs the golden batch (Tests/Fixtures/golden/<family>/golden.safetensors) and
compares the logits with <family>_unmerged_logits.safetensors, which swift-tune wrote from the base model with the
adapter attached (not merged). Also loads the qwen2 folder's tokenizer with AutoTokenizer. Prints one PASS/FAIL line
per family and exits 1 on any FAIL. Pinned: torch 2.11, transformers 5.17 (the GPU machine's Python).
Regenerate the fixtures with: SWIFT_TUNE_WRITE_FIXTURES=1 swift test --filter MergeExportTests
"""
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

FIXTURES = "Tests/Fixtures/export/merged"


def check(family):
    folder = f"{FIXTURES}/{family}"
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    ids = load_file(f"Tests/Fixtures/golden/{family}/golden.safetensors")["input_ids"].long()
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    expected = load_file(f"{FIXTURES}/{family}_unmerged_logits.safetensors")["logits"]
    diff = (logits - expected).abs().max().item()
    rel = diff / expected.abs().max().item()
    ok = rel <= 1e-4
    print(f"transformers loads the merged {family}: logits max abs diff {diff:.2e}, rel. error {rel:.2e} "
          f"(tolerance 1e-4) {'PASS' if ok else 'FAIL'}")
    return ok


def main():
    results = [check(family) for family in ["qwen2", "llama"]]
    tokenizer = AutoTokenizer.from_pretrained(f"{FIXTURES}/qwen2")
    text = "<|im_start|>user\nhi<|im_end|>"
    print(f"AutoTokenizer loads the merged qwen2 tokenizer: {tokenizer(text)['input_ids']}")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
