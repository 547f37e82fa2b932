#!/usr/bin/env bash
# Installs what swift-tune's build, tests and benchmarks need on a Debian machine, if missing, from Debian's packages:
#   OpenBLAS          found at run time by the CPU backend (without it a portable Swift GEMM is used, several times slower)
#   tmux              the interactive `infer` test drives a real terminal session          (tests only)
#   xz-utils          the GPU scripts pack the static binary                               (tests only)
#   chromium, chromium-driver   the web UI's browser test (scripts/test_web_ui_browser.py) (tests only)
#   libcurl4-openssl-dev        linking the static release binary (FoundationNetworking's -lcurl) (--static only)
#
#   scripts/setup.sh          # everything (the test command)
#   scripts/setup.sh --demo   # OpenBLAS only (the demo); without root or sudo it goes on with the portable GEMM
#   scripts/setup.sh --static # what `swift build -c release --static-swift-stdlib` links (scripts/gpu/check.sh build)
set -euo pipefail
mode=${1:-all}
need=()
if [ "$mode" = --static ]; then
    ldconfig -p | grep -q 'libcurl\.so ' || need+=(libcurl4-openssl-dev)
else
    ldconfig -p | grep -q 'libopenblas\.so\.0' || need+=(libopenblas0-pthread)
fi
if [ "$mode" = all ]; then
    command -v tmux >/dev/null 2>&1 || need+=(tmux)
    command -v xz >/dev/null 2>&1 || need+=(xz-utils)
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fi
if ((${#need[@]} == 0)); then
    echo "setup: the Debian packages are present"
    exit 0
fi
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo_cmd="sudo"
    elif [ "$mode" = --demo ]; then
        echo "setup: OpenBLAS is not installed and this user cannot run apt-get (no root, no sudo without a password);" \
            "going on with swift-tune's portable GEMM (slower). To install it: sudo apt-get install libopenblas0-pthread"
        exit 0
    else
        echo "setup: missing ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
        exit 1
    fi
fi
echo "setup: installing ${need[*]} from Debian's packages (apt-get)"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
echo "setup: installed ${need[*]}"
