#!/usr/bin/env bash
# The 7B QLoRA benchmark (issue 13): bench_train_7b.sh with both stacks over an NF4 double-quantized base
# (swift-tune --train_type qlora; HF transformers + peft + bitsandbytes, with and without Liger), same call.
#   scripts/gpu/bench_qlora_7b.sh build            here (no GPU): what bench_train_7b.sh build puts in .device/
#   scripts/gpu/bench_qlora_7b.sh run [LEN...]     on the GPU machine (carry .device): lengths default to 512 2048
# Environment: as bench_train_7b.sh (STEPS, DTYPE, HF, SWIFT, MODEL_DIR, EXTRA); LIGER defaults to 1 here.
set -euo pipefail
cd "$(dirname "$0")/../.."
TRAIN_TYPE=qlora LIGER=${LIGER:-1} exec scripts/gpu/bench_train_7b.sh "$@"
