#!/usr/bin/env bash
# True GPU durations of a LoRA training step's kernels (issue 12), from Nsight Compute rather than the in-process
# profiler: SWIFT_TUNE_CUDA_PROFILE brackets each launch with events, so a kernel the GPU waits for the host to launch
# shows the gap too. On the GPU machine (carry .device, built by scripts/gpu/bench_train_7b.sh build):
#   scripts/gpu/ncu_kernels.sh [REGEX]    kernels whose names match REGEX (default: the LoRA, elementwise and GEMM ones)
# Trains 3 steps of LoRA r 8 on a 2-layer model of the Qwen2.5-7B shape (the 7B run's kernel shapes in seconds) at
# 2048 tokens under `ncu --clock-control none --cache-control none`, skipping the first 200 matching launches (step
# 1 compiles kernels and plans); writes $OUT/ncu.csv (gpu__time_duration.sum, dram__bytes.sum per launch).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/gpu/bench_common.sh
regex=${1:-'lora_|add_bf16|rope_bf16|add_bias|swiglu_bf16|rms_norm_bf16|gemm|nvjet|xmma|cutlass|sm90'}
out=${OUT:-.device/out}
mkdir -p "$out"
[ -x .device/swift-tune ] || { xz -dkf .device/swift-tune.xz && chmod +x .device/swift-tune; }
[ -f .device/tokenizer.json ] || xz -dkf .device/tokenizer.json.xz
model=/tmp/qwen7b-2layer
[ -f "$model/config.json" ] || python3 - "$model" <<'PY'
import sys, torch
from transformers import Qwen2Config, AutoModelForCausalLM
c = Qwen2Config(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=2,
                num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=32768, rope_theta=1e6,
                rms_norm_eps=1e-6, tie_word_embeddings=False)
with torch.device("cuda"):
    m = AutoModelForCausalLM.from_config(c, dtype=torch.bfloat16)
m.save_pretrained(sys.argv[1])
PY
cp .device/tokenizer.json .device/tokenizer_config.json "$model/"
bench_text_rows /tmp/ncu-text.jsonl
rm -rf /tmp/ncu-run
ncu --clock-control none --cache-control none --kernel-name "regex:$regex" --launch-skip 200 --launch-count 120 \
    --metrics gpu__time_duration.sum,dram__bytes.sum --csv \
    .device/swift-tune pt --model "$model" --dataset /tmp/ncu-text.jsonl --train_type lora --lora_rank 8 --lora_alpha 32 \
    --target_modules all-linear --torch_dtype bfloat16 --max_length 2048 --truncation_strategy right \
    --gradient_checkpointing true --per_device_train_batch_size 1 --gradient_accumulation_steps 1 --max_steps 3 \
    --logging_steps 1 --save_steps 100000 --device cuda --output_dir /tmp/ncu-run > "$out/ncu.csv" 2> "$out/ncu.err"
echo "ncu: $(grep -c gpu__time_duration "$out/ncu.csv") measurements in $out/ncu.csv"
