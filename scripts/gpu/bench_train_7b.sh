#!/usr/bin/env bash
# The 7B LoRA training benchmark (issue 12), swift-tune next to HF transformers + peft in the same device call.
#   scripts/gpu/bench_train_7b.sh build            here (no GPU): the static binary, the HF reference script, the
#                                                   Qwen2.5 tokenizer and a source of text into .device/
#   scripts/gpu/bench_train_7b.sh run [LEN...]     on the GPU machine (carry .device): lengths default to 512 2048
# Environment for `run`: STEPS (8), DTYPE (swift-tune's --torch_dtype, default: the CLI's), HF (1: also run the HF
# reference), SWIFT (1: run swift-tune), MODEL_DIR (/tmp/qwen25-7b-random, made once by the HF script).
#
# The model is random-init with the exact Qwen2.5-7B shape (bf16 safetensors). Both stacks train LoRA r 8, α 32 on
# every linear layer, batch 1, gradient checkpointing, on rows of exactly LEN tokens with every token scored
# (`swift-tune pt`, rows truncated to --max_length; HF's script uses random ids of that length). Tokens/s is LEN over
# the median step time of steps 3..STEPS (swift-tune: from logging.jsonl's cumulative s/it; HF: its own timer);
# memory is nvidia-smi's peak memory.used while the run lasts (what the card held) and HF's own peak allocated.
set -euo pipefail
cd "$(dirname "$0")/../.."
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
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/bench.txt"
    python3 -c "import sys; sys.path.insert(0, '.device'); import hf_qlora_baseline as h; h.make_random_model('$model')"
    cp .device/tokenizer.json .device/tokenizer_config.json "$model/"
    # Rows of alpaca text long enough for any LEN (each row is many alpaca answers joined).
    python3 - "$out/text.jsonl" <<'EOF'
import json, sys
rows = json.load(open(".device/alpaca_en_demo.json"))
text = " ".join(r["output"] for r in rows)
words = text.split()
with open(sys.argv[1], "w") as f:
    for i in range(64):
        f.write(json.dumps({"text": " ".join(words[i * 997:] + words[:i * 997])[:200_000]}) + "\n")
EOF
    peak() {  # peak memory.used (MiB) while "$@" runs
        local log=$1; shift
        ( while :; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; sleep 0.5; done ) > "$log" &
        local sampler=$!
        "$@"; local rc=$?
        kill $sampler 2>/dev/null; wait $sampler 2>/dev/null || true
        return $rc
    }
    for len in $lengths; do
        if [ "${SWIFT:-1}" = 1 ]; then
            run="$out/swift-$len"
            rm -rf "$run"
            dtype=${DTYPE:+--torch_dtype $DTYPE}
            peak "$out/swift-$len.mem" .device/swift-tune pt --model "$model" --dataset "$out/text.jsonl" \
                --train_type lora --lora_rank 8 --lora_alpha 32 --target_modules all-linear $dtype \
                --max_length "$len" --truncation_strategy right --gradient_checkpointing true \
                --per_device_train_batch_size 1 --gradient_accumulation_steps 1 --max_steps "$steps" \
                --logging_steps 1 --save_steps 100000 --device cuda --output_dir "$run" \
                > "$out/swift-$len.log" 2>&1 || { echo "swift-tune $len failed:"; tail -20 "$out/swift-$len.log"; }
            python3 - "$run" "$len" "$out/swift-$len.mem" <<'EOF' | tee -a "$out/bench.txt"
import glob, json, statistics, sys
run, length, mem = sys.argv[1], int(sys.argv[2]), sys.argv[3]
logs = glob.glob(f"{run}/**/logging.jsonl", recursive=True)
records = [json.loads(l) for l in open(logs[0])] if logs else []
steps = [r for r in records if "loss" in r and "train_speed(s/it)" in r]
elapsed = [float(r["train_speed(s/it)"]) * int(r["global_step/max_steps"].split("/")[0]) for r in steps]
times = [b - a for a, b in zip(elapsed, elapsed[1:])][1:]  # steps 3.. (step 1 compiles kernels)
peak = max((int(x) for x in open(mem).read().split() if x.isdigit()), default=0) / 1024
if times:
    t = statistics.median(times)
    print(f"RESULT swift-tune len {length}: {length / t:,.0f} tokens/s ({t:.3f} s/step, {len(times)} steps), "
          f"card peak {peak:.2f} GiB, losses {[round(r['loss'], 3) for r in steps]}")
else:
    print(f"RESULT swift-tune len {length}: no step times (see swift-{length}.log)")
EOF
        fi
        if [ "${HF:-1}" = 1 ]; then
            peak "$out/hf-$len.mem" python3 .device/hf_qlora_baseline.py --mode lora --seq "$len" --steps "$steps" \
                --model-dir "$model" > "$out/hf-$len.log" 2>&1 || true
            hfpeak=$(sort -n "$out/hf-$len.mem" | tail -1)
            echo "RESULT HF+peft len $len: $(grep '^RESULT' "$out/hf-$len.log" || tail -3 "$out/hf-$len.log"), card peak $((hfpeak / 1024)) GiB" \
                | tee -a "$out/bench.txt"
        fi
    done
    ;;
*)
    echo "usage: scripts/gpu/bench_train_7b.sh [build|run [LEN...]]" >&2
    exit 2
    ;;
esac
