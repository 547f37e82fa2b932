#!/usr/bin/env bash
# Fuzzes the parsers a user's file or request reaches (issue 18) with libFuzzer.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     # default: all, 60 s each
#
# Targets: gguf safetensors json dataset tokenizer chat_template server (Tests/FuzzTargets/FuzzTarget.swift).
# One binary for every target, built once into .build/fuzz (release, -sanitize=fuzzer,address); each target then
# runs for SECONDS with the bounds below. Corpora grow under .cache/fuzz/corpus/TARGET (not committed), seeded from
# the fixtures and the hand-written cases; a crash, sanitizer report, out-of-memory or slow input is saved under
# Tests/Fixtures/fuzz/TARGET/ (crash-*, oom-*, timeout-*), where SwiftTuneFuzzTests replays it, and the
# script fails. Figures (executions/s, edges, corpus) go to .cache/fuzz/results.tsv and standard output.
#
# Bounds: -rss_limit_mb=2048 (the process), -malloc_limit_mb=512 (any one allocation), -timeout=1 (any one input).
# Leak checks are off: the Swift runtime's metadata caches and the server target's loaded model live for the
# whole process and are not leaks of a parser.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(gguf safetensors json dataset tokenizer chat_template server)
target=${1:-all}
seconds=${2:-60}
if [[ $target != all && ! " ${targets[*]} " =~ " $target " ]]; then
    echo "scripts/fuzz.sh: unknown target '$target' (expected all or one of: ${targets[*]})" >&2
    exit 2
fi
[[ $target == all ]] || targets=("$target")

export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0
binary=.build/fuzz/release/swift-tune-fuzz
nice swift build -c release --build-path .build/fuzz --product swift-tune-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -enable-testing

fixtures=Tests/Fixtures
work=.cache/fuzz
mkdir -p "$work"

# Seeds: fixture files (with the target's selector byte where it has one) and the binary's hand-written cases.
seed() {  # seed TARGET NAME SELECTOR-BYTE-OR-EMPTY FILE...
    local name=$2 prefix=$3 folder=$work/seeds/$1
    shift 3
    mkdir -p "$folder"
    { [[ -z $prefix ]] || printf "\\x$prefix"; cat "$@"; } >"$folder/$name"
}
make_seeds() {
    local t=$1
    rm -rf "$work/seeds/$t"
    mkdir -p "$work/seeds/$t"
    SWIFT_TUNE_FUZZ_TARGET=$t SWIFT_TUNE_FUZZ_WRITE_SEEDS=$work/seeds/$t "$binary" >/dev/null
    case $t in
    gguf)
        for f in $fixtures/gguf/quants.gguf $fixtures/gguf/spm_tokenizer.gguf; do seed gguf "$(basename "$f")" "" "$f"; done ;;
    safetensors)
        seed safetensors quants_expected 00 $fixtures/gguf/quants_expected.safetensors
        seed safetensors adapter 00 $fixtures/lora/swift_adapter/adapter_model.safetensors
        for f in $(find $fixtures -name '*.index.json' | head -4); do seed safetensors "index-$(basename "$(dirname "$f")")" 01 "$f"; done ;;
    json)
        for f in $fixtures/golden/*/config.json $fixtures/golden/qwen2/tokenizer_config.json $fixtures/gguf/manifest.json \
                 $fixtures/data/numpy_random.json $fixtures/lora/swift_adapter/adapter_config.json; do
            seed json "$(basename "$(dirname "$f")")-$(basename "$f")" "" "$f"
        done
        head -c 4000 $fixtures/chat/chat_template_goldens.json >"$work/seeds/json/goldens-head" ;;
    dataset)
        seed dataset bad_rows.jsonl 00 $fixtures/data/bad_rows.jsonl
        seed dataset folder-a.jsonl 00 $fixtures/data/folder/a.jsonl
        seed dataset numpy_random.json 01 $fixtures/data/numpy_random.json
        seed dataset folder-b.json 01 $fixtures/data/folder/b.json
        seed dataset quoted.csv 02 $fixtures/data/quoted.csv ;;
    tokenizer)
        local text=$work/seeds/corpus-lines
        head -n 8 $fixtures/tokenizers/corpus.jsonl | head -c 3000 >"$text"
        seed tokenizer text "" "$text"
        for f in $fixtures/golden/qwen2/tokenizer.json $fixtures/gguf/spm_tokenizer.json; do
            { cat "$f"; printf '\0'; head -c 400 "$text"; } >"$work/seeds/tokenizer/$(basename "$(dirname "$f")")-tokenizer"
        done
        rm -f "$text" ;;
    chat_template)
        local n=0
        while IFS= read -r line; do
            n=$((n + 1)); printf '%s' "$line" >"$work/seeds/chat_template/bad_rows-$n"
        done <$fixtures/data/bad_rows.jsonl ;;
    server) ;;
    esac
}

max_len() {
    case $1 in
    gguf | safetensors) echo 65536 ;;
    tokenizer) echo 32768 ;;
    *) echo 8192 ;;
    esac
}

results=$work/results.tsv
[[ -f $results ]] || printf 'date\ttarget\tseconds\texecs\texec_per_s\tedges\tfeatures\tcorpus_files\tcorpus_bytes\tpeak_rss_mb\tresult\n' >"$results"
failed=()
for t in "${targets[@]}"; do
    make_seeds "$t"
    corpus=$work/corpus/$t
    crashes=$fixtures/fuzz/$t
    mkdir -p "$corpus" "$crashes"
    log=$work/$t.log
    echo "fuzzing $t for ${seconds}s (log: $log)"
    status=0
    SWIFT_TUNE_FUZZ_TARGET=$t nice "$binary" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=1 \
        -max_len="$(max_len "$t")" -dict=Tests/Fuzz/Dictionaries/$t.dict -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" "$work/seeds/$t" "$crashes" >"$log" 2>&1 || status=$?
    done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse)' "$log" | tail -1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    edges=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
    features=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
    files=$(find "$corpus" -type f | wc -l)
    bytes=$(du -sb "$corpus" | cut -f1)
    result=ok
    if [[ $status != 0 ]]; then
        result="FAILED ($status)"
        failed+=("$t")
        grep -E 'ERROR: |==ERROR|unexpected:|Fatal error|Test unit written' "$log" | head -5 >&2 || true
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$seconds" "${execs:-?}" "${rate:-?}" \
        "${edges:-?}" "${features:-?}" "$files" "$bytes" "${rss:-?}" "$result" >>"$results"
    printf '  %s: %s execs, %s exec/s, %s edges, %s features, corpus %s files (%s bytes), peak RSS %s MB: %s\n' \
        "$t" "${execs:-?}" "${rate:-?}" "${edges:-?}" "${features:-?}" "$files" "$bytes" "${rss:-?}" "$result"
done
if ((${#failed[@]})); then
    echo "scripts/fuzz.sh: ${failed[*]} failed; the inputs are in Tests/Fixtures/fuzz/<target>/ (replay: swift-tune-fuzz TARGET FILE)" >&2
    exit 1
fi
