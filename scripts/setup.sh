#!/usr/bin/env bash
# Installs what swift-tune's build, tests and benchmarks need on a Debian machine, if missing:
# OpenBLAS (found at run time by the CPU backend; without it a portable Swift GEMM is used) and tmux (the
# interactive `infer` test drives a real terminal session), Chromium and chromium-driver (the web UI's browser test).
set -euo pipefail
need=()
ldconfig -p | grep -q 'libopenblas\.so\.0' || need+=(libopenblas0-pthread)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
# headless Chromium and its WebDriver for the web UI's browser test (scripts/test_web_ui_browser.py)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if ((${#need[@]})); then
    echo "setup: installing ${need[*]}"
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
