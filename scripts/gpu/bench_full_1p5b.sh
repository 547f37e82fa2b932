#!/usr/bin/env bash
# Full fine-tuning of a 1.5B-shaped Qwen2 (issue 12), swift-tune next to HF-Trainer-style PyTorch in the same call.
#   scripts/gpu/bench_train_7b.sh build              here: the static binary and the tokenizer into .device/
#   scripts/gpu/bench_full_1p5b.sh run [LEN...]      on the GPU machine (carry .device): lengths default to 2048
# swift-tune: `pt --train_type full --torch_dtype bfloat16` (bf16 weights and activations, f32 master weights and
# AdamW state), gradient checkpointing, batch 1, rows of exactly LEN scored tokens. The reference
# (scripts/gpu/hf_full_ft_baseline.py): f32 weights with bf16 autocast, fused AdamW, checkpointing, same shape.
# Tokens/s from the median step of steps 3..STEPS; memory is nvidia-smi's peak while each run lasts.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/gpu/bench_common.sh
[ "${1:-}" = run ] || { echo "usage: scripts/gpu/bench_full_1p5b.sh run [LEN...]" >&2; exit 2; }
shift
[ -x .device/swift-tune ] || { xz -dkf .device/swift-tune.xz && chmod +x .device/swift-tune; }
[ -f .device/tokenizer.json ] || xz -dkf .device/tokenizer.json.xz
out=${OUT:-.device/out}
mkdir -p "$out"
model=${MODEL_DIR:-/tmp/qwen2-1.5b-random}
steps=${STEPS:-8}
python3 -c "import sys; sys.path.insert(0, 'scripts/gpu'); import hf_full_ft_baseline as h; h.make_random_model('$model')"
cp .device/tokenizer.json .device/tokenizer_config.json "$model/"
bench_text_rows "$out/text.jsonl"
for len in ${*:-2048}; do
    run="$out/full-$len"
    rm -rf "$run"
    peak "$out/full-$len.mem" .device/swift-tune pt --model "$model" --dataset "$out/text.jsonl" --train_type full \
        --torch_dtype bfloat16 --max_length "$len" --truncation_strategy right --gradient_checkpointing true \
        --per_device_train_batch_size 1 --max_steps "$steps" --learning_rate 1e-5 --logging_steps 1 \
        --save_steps 100000 --device cuda --output_dir "$run" > "$out/full-$len.log" 2>&1 \
        || { echo "swift-tune full $len failed:"; grep -v '^{' "$out/full-$len.log" | tail -20; }
    bench_step_result "swift-tune full" "$run" "$len" "$out/full-$len.mem"
    peak "$out/hf-full-$len.mem" python3 scripts/gpu/hf_full_ft_baseline.py --seq "$len" --steps "$steps" \
        --model-dir "$model" > "$out/hf-full-$len.log" 2>&1 || true
    echo "RESULT HF full len $len: $(grep '^RESULT' "$out/hf-full-$len.log" || tail -3 "$out/hf-full-$len.log"), card peak $(( $(sort -n "$out/hf-full-$len.mem" | tail -1) / 1024 )) GiB"
    find "$run" -name "*.safetensors" -delete
done
rm -f "$out/text.jsonl"
