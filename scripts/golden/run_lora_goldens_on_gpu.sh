#!/usr/bin/env bash
# Runs the LoRA golden script on the GPU machine (whose python3 has torch, transformers and peft; the script itself
# computes on the CPU) and packs the fixtures into $OUT/lora-goldens.tar.gz. Unpack it here into Tests/Fixtures
# (it holds lora/) and commit Tests/Fixtures/lora.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/golden-out}
work=$(mktemp -d)
python3 -c 'import torch, transformers, peft; print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)'
PYTHONUNBUFFERED=1 python3 scripts/golden/make_lora_goldens.py "$work/lora"
mkdir -p "$out"
tar -C "$work" -czf "$out/lora-goldens.tar.gz" lora
ls -la "$work/lora" "$work/lora"/* | head -60
du -sh "$work/lora"
