#!/usr/bin/env bash
# Runs the greedy-generation golden script on the GPU machine (whose python3 has torch, transformers and peft; the
# script itself computes on the CPU) and packs the fixtures into $OUT/generate-goldens.tar.gz. Unpack it here in
# Tests/Fixtures (it holds generate/) and commit Tests/Fixtures/generate.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/golden-out}
work=$(mktemp -d)
python3 -c 'import torch, transformers, peft; print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)'
PYTHONUNBUFFERED=1 python3 scripts/golden/make_generate_goldens.py "$work/generate"
mkdir -p "$out"
tar -C "$work" -czf "$out/generate-goldens.tar.gz" generate
ls -la "$work/generate"
