#!/usr/bin/env bash
# The 7B LoRA training benchmark (issue 12), swift-tune next to HF transformers + peft in the same device call.
#   scripts/gpu/bench_train_7b.sh build            here (no GPU): the static binary, the HF reference script, the
#                                                   Qwen2.5 tokenizer and a source of text into .device/
#   scripts/gpu/bench_train_7b.sh run [LEN...]     on the GPU machine (carry .device): lengths default to 512 2048
# Environment for `run`: STEPS (8), DTYPE (swift-tune's --torch_dtype, default: the CLI's), HF (1: also run the HF
# reference), SWIFT (1: run swift-tune), MODEL_DIR (/tmp/qwen25-7b-random, made once by the HF script),
# TRAIN_TYPE (lora; qlora: both stacks over an NF4 double-quantized base, see bench_qlora_7b.sh), LIGER (0; 1: also
# the HF reference with Liger kernels), EXTRA (more swift-tune flags).
#
# The model is random-init with the exact Qwen2.5-7B shape (bf16 safetensors). Both stacks train LoRA r 8, α 32 on
# every linear layer, batch 1, gradient checkpointing, on rows of exactly LEN tokens with every token scored
# (`swift-tune pt`, rows truncated to --max_length; HF's script uses random ids of that length). Tokens/s is LEN over
# the median step time of steps 3..STEPS (swift-tune: from logging.jsonl's cumulative s/it; HF: its own timer);
# memory is nvidia-smi's peak memory.used while the run lasts (what the card held) and HF's own peak allocated.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/gpu/bench_common.sh
mode=${1:-$(command -v nvidia-smi >/dev/null 2>&1 && echo run || echo build)}
shift || true
case "$mode" in
build)
    scripts/gpu/check.sh build
    cp ../shared/bench/hf_qlora_baseline.py .device/
    cp .cache/tokenizers/qwen2.5/tokenizer.json .cache/tokenizers/qwen2.5/tokenizer_config.json .device/
    cp ../shared/data/sft/alpaca_en_demo.json .device/
    xz -T2 -f .device/tokenizer.json
    ls -la .device
    echo "now run on the GPU machine (carry .device): scripts/gpu/bench_train_7b.sh run [LEN...]"
    ;;
run)
    [ -x .device/swift-tune ] || { xz -dkf .device/swift-tune.xz && chmod +x .device/swift-tune; }
    [ -f .device/tokenizer.json ] || xz -dkf .device/tokenizer.json.xz
    out=${OUT:-.device/out}
    mkdir -p "$out"
    model=${MODEL_DIR:-/tmp/qwen25-7b-random}
    lengths=${*:-512 2048}
    steps=${STEPS:-8}
    train_type=${TRAIN_TYPE:-lora}
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/bench.txt"
    python3 -c "import sys; sys.path.insert(0, '.device'); import hf_qlora_baseline as h; h.make_random_model('$model')"
    cp .device/tokenizer.json .device/tokenizer_config.json "$model/"
    bench_text_rows "$out/text.jsonl"
    for len in $lengths; do
        if [ "${SWIFT:-1}" = 1 ]; then
            run="$out/swift-$train_type-$len"
            rm -rf "$run"
            dtype=${DTYPE:+--torch_dtype $DTYPE}
            # shellcheck disable=SC2086
            peak "$run.mem" .device/swift-tune pt --model "$model" --dataset "$out/text.jsonl" ${EXTRA:-} \
                --train_type "$train_type" --lora_rank 8 --lora_alpha 32 --target_modules all-linear $dtype \
                --max_length "$len" --truncation_strategy right --gradient_checkpointing true \
                --per_device_train_batch_size 1 --gradient_accumulation_steps 1 --max_steps "$steps" \
                --logging_steps 1 --save_steps 100000 --device cuda --output_dir "$run" \
                > "$run.log" 2>&1 || { echo "swift-tune $len failed:"; tail -20 "$run.log"; }
            bench_step_result "swift-tune $train_type" "$run" "$len" "$run.mem" | tee -a "$out/bench.txt"
        fi
        hf_variants=""
        [ "${HF:-1}" = 1 ] && hf_variants="plain"
        [ "${LIGER:-0}" = 1 ] && hf_variants="$hf_variants liger"
        for variant in $hf_variants; do
            hf="$out/hf-$train_type-$variant-$len"
            liger=""; [ "$variant" = liger ] && liger=--liger
            # shellcheck disable=SC2086
            peak "$hf.mem" python3 .device/hf_qlora_baseline.py --mode "$train_type" --seq "$len" --steps "$steps" \
                --model-dir "$model" $liger > "$hf.log" 2>&1 || true
            hfpeak=$(sort -n "$hf.mem" | tail -1)
            echo "RESULT HF+peft $train_type $variant len $len: $(grep '^RESULT' "$hf.log" || tail -3 "$hf.log"), card peak $((hfpeak / 1024)) GiB" \
                | tee -a "$out/bench.txt"
        done
    done
    ;;
*)
    echo "usage: scripts/gpu/bench_train_7b.sh [build|run [LEN...]]" >&2
    exit 2
    ;;
esac
