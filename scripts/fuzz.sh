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
# Bounds: -rss_limit_mb=2048 (the process), -malloc_limit_mb=512 (any one allocation), -timeout=1 (any one input,
# SWIFT_TUNE_FUZZ_TIMEOUT to change it; a timeout whose input replays fast is the machine's and is only counted).
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
# SWIFT_TUNE_FUZZ_CONFIGURATION=debug builds without optimization: from scratch 4.2 against 7.3 minutes on the 2-core
# dev box (docs/benchmarks.md), but about a tenth of the executions per second.
configuration=${SWIFT_TUNE_FUZZ_CONFIGURATION:-release}
if [[ $configuration != release && $configuration != debug ]]; then
    echo "scripts/fuzz.sh: SWIFT_TUNE_FUZZ_CONFIGURATION=$configuration (expected release or debug)" >&2
    exit 2
fi
build=.build/fuzz$([[ $configuration == release ]] || echo "-$configuration")
binary=$build/$configuration/swift-tune-fuzz
nice swift build -c "$configuration" --build-path "$build" --product swift-tune-fuzz \
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

# One libFuzzer run of target $1 for $2 seconds into the log $3; its exit status.
fuzz_once() {
    local t=$1 corpus=$work/corpus/$1 crashes=$fixtures/fuzz/$1 status=0
    SWIFT_TUNE_FUZZ_TARGET=$t nice "$binary" \
        -max_total_time="$2" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout="$timeout" \
        -max_len="$(max_len "$t")" -dict=Tests/Fuzz/Dictionaries/$t.dict -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" "$work/seeds/$t" "$crashes" >"$3" 2>&1 || status=$?
    return $status
}

# A timeout on a shared machine can be the machine's, not the input's: a neighbour's build took the cores for a
# second. Replays the saved input three times on its own; if the fastest run takes under half the timeout, the input
# is not slow, so it is moved to .cache/fuzz/stalls/ and the run goes on. Otherwise it stays a regression case.
machine_stall() {  # machine_stall TARGET LOG
    local input
    input=$(sed -n 's/.*Test unit written to \(.*timeout-[0-9a-f]*\)$/\1/p' "$2" | tail -1)
    [[ -n $input && -f $input ]] || return 1
    local fastest
    fastest=$(SWIFT_TUNE_FUZZ_TARGET=$1 "$binary" -timeout=$((timeout * 10)) "$input" "$input" "$input" 2>&1 \
        | sed -n 's/^Executed .* in \([0-9]*\) ms$/\1/p' | sort -n | head -1)
    [[ -n $fastest ]] && ((fastest * 2 < timeout * 1000)) || return 1
    mkdir -p "$work/stalls/$1"
    mv "$input" "$work/stalls/$1/"
    echo "  $1: a ${timeout}s timeout on an input that replays in ${fastest} ms (the machine stalled); going on" >&2
}

stat_sum() { sed -n "s/^stat::$1: *//p" "${@:2}" | awk '{ s += $1 } END { print s + 0 }'; }
stat_max() { sed -n "s/^stat::$1: *//p" "${@:2}" | sort -n | tail -1; }

timeout=${SWIFT_TUNE_FUZZ_TIMEOUT:-1}
results=$work/results.tsv
header='date\ttarget\tseconds\texecs\texec_per_s\tedges\tfeatures\tcorpus_files\tcorpus_bytes\tpeak_rss_mb\tslowest_s\tstalls\tresult\n'
[[ -f $results && $(head -1 "$results") == *stalls* ]] || printf "$header" >"$results"
failed=()
for t in "${targets[@]}"; do
    make_seeds "$t"
    mkdir -p "$work/corpus/$t" "$fixtures/fuzz/$t"
    echo "fuzzing $t for ${seconds}s (logs: $work/$t.log*)"
    rm -f "$work/$t".log*
    start=$SECONDS status=0 stalls=0 part=0 logs=()
    while :; do
        left=$((seconds - (SECONDS - start)))
        ((left > 0)) || break
        log=$work/$t.log$( ((part == 0)) || echo ".$part")
        logs+=("$log")
        part=$((part + 1))
        status=0
        fuzz_once "$t" "$left" "$log" || status=$?
        # 70 is libFuzzer's exit status for a timeout; at most 5 stalls before a timeout counts.
        if [[ $status == 70 ]] && ((stalls < 5)) && machine_stall "$t" "$log"; then
            stalls=$((stalls + 1))
            continue
        fi
        break
    done
    last=${logs[${#logs[@]} - 1]}
    done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse)' "$last" | tail -1 || true)
    execs=$(stat_sum number_of_executed_units "${logs[@]}")
    elapsed=$((SECONDS - start))
    rate=$((execs / (elapsed > 0 ? elapsed : 1)))
    rss=$(stat_max peak_rss_mb "${logs[@]}")
    slowest=$(stat_max slowest_unit_time_sec "${logs[@]}")
    edges=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
    features=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
    files=$(find "$work/corpus/$t" -type f | wc -l)
    bytes=$(du -sb "$work/corpus/$t" | cut -f1)
    result=ok
    if [[ $status != 0 ]]; then
        result="FAILED ($status)"
        failed+=("$t")
        grep -E 'ERROR: |==ERROR|unexpected:|Fatal error|Test unit written' "$last" | head -5 >&2 || true
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$elapsed" "$execs" "$rate" \
        "${edges:-?}" "${features:-?}" "$files" "$bytes" "${rss:-?}" "${slowest:-?}" "$stalls" "$result" >>"$results"
    printf '  %s: %s execs in %s s (%s/s), %s edges, %s features, corpus %s files (%s bytes), peak RSS %s MB, slowest input %s s, %s stalls: %s\n' \
        "$t" "$execs" "$elapsed" "$rate" "${edges:-?}" "${features:-?}" "$files" "$bytes" "${rss:-?}" "${slowest:-?}" "$stalls" "$result"
done
if ((${#failed[@]})); then
    echo "scripts/fuzz.sh: ${failed[*]} failed; the inputs are in Tests/Fixtures/fuzz/<target>/ (replay: swift-tune-fuzz TARGET FILE)" >&2
    exit 1
fi
