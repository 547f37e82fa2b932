#!/usr/bin/env bash
# Installs llama.cpp's Python binding (PyPI llama-cpp-python, pinned) for the export tests' llama.cpp parity check
# and the quantization goldens. It ships as source only: the first run builds a wheel (about 9 minutes on 2 cores)
# into .cache/llama-cpp/wheel/ (never committed); later runs reinstall that wheel, or do nothing when it is installed.
# Needs pip (PyPI only) and a C/C++ compiler; cmake and ninja come from PyPI as build dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1   # no "running as root" or upgrade warnings
version=0.3.36
cache=.cache/llama-cpp
if python3 -c "import llama_cpp, sys; sys.exit(0 if llama_cpp.__version__ == '$version' else 1)" 2>/dev/null; then
    echo "setup_llama_cpp: llama-cpp-python $version is installed"
    exit 0
fi
wheel=$(ls "$cache"/wheel/llama_cpp_python-$version-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
    mkdir -p "$cache/wheel"
    echo "setup_llama_cpp: building llama-cpp-python $version (once per machine, several minutes)"
    python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
        "llama-cpp-python==$version" -d "$cache"
    # Only the library: no llava/mtmd, tests, examples, tools or server.
    CMAKE_BUILD_PARALLEL_LEVEL=2 \
    CMAKE_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF" \
        python3 -m pip wheel -q --disable-pip-version-check --no-deps -w "$cache/wheel" "$cache/llama_cpp_python-$version.tar.gz"
    rm -f "$cache/llama_cpp_python-$version.tar.gz"
    wheel=$(ls "$cache"/wheel/llama_cpp_python-$version-*.whl | head -1)
fi
python3 -m pip install -q --disable-pip-version-check "$wheel"
echo "setup_llama_cpp: installed $wheel"
