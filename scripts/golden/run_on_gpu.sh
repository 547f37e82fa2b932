#!/usr/bin/env bash
# Runs every golden script on the GPU machine (whose python3 has torch and transformers) and packs the
# fixtures into $OUT/goldens.tar.gz; unpack it here into Tests/Fixtures/golden.
set -euo pipefail
out=${OUT:-/tmp/golden-out}
work=$(mktemp -d)
python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
PYTHONUNBUFFERED=1 python3 scripts/golden/make_decoder_goldens.py "$work/golden"
PYTHONUNBUFFERED=1 python3 scripts/golden/make_rope_goldens.py "$work/golden" || echo "rope goldens FAILED" >&2
mkdir -p "$out"
tar -C "$work" -czf "$out/goldens.tar.gz" golden
ls -la "$work/golden"/* | head -40
