#!/usr/bin/env bash
# The CUDA check, in two halves:
#   scripts/gpu/check.sh build   here (no GPU): builds the static release binary into .device/swift-tune.xz
#   scripts/gpu/check.sh run     on the GPU machine: unpacks it and compares the CUDA backend with the CPU
#                                one, op by op and on the golden models' logits; the table goes to $OUT too.
# With no argument it builds where there is no GPU and runs where there is one.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-$(command -v nvidia-smi >/dev/null 2>&1 && echo run || echo build)}
case "$mode" in
build)
    scripts/setup.sh --static
    swift build -c release --static-swift-stdlib --product swift-tune
    mkdir -p .device
    strip -o .device/swift-tune .build/release/swift-tune
    xz -T2 -f .device/swift-tune
    ls -la .device/swift-tune.xz
    echo "now run on the GPU machine (carry .device): scripts/gpu/check.sh run"
    ;;
run)
    [ -x .device/swift-tune ] || { xz -dkf .device/swift-tune.xz && chmod +x .device/swift-tune; }
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    out=${OUT:-.device}
    mkdir -p "$out"
    .device/swift-tune check-backend --device cuda --fixtures Tests/Fixtures/golden 2>&1 | tee "$out/check-backend.txt"
    # PEFT loads an adapter written by swift-tune and gives swift-tune's logits (needs the machine's peft).
    python3 scripts/golden/check_peft_loads_adapter.py 2>&1 | tail -1 | tee -a "$out/check-backend.txt"
    # transformers loads models merged by swift-tune export and gives the unmerged adapter's logits.
    python3 scripts/gpu/check_merged_in_transformers.py 2>&1 | grep -E "PASS|FAIL|AutoTokenizer" | tee -a "$out/check-backend.txt"
    ;;
*)
    echo "usage: scripts/gpu/check.sh [build|run]" >&2
    exit 2
    ;;
esac
