#!/usr/bin/env bash
# Installs what swift-tune's build, tests and benchmarks need on a Debian machine, if missing:
# OpenBLAS (found at run time by the CPU backend; without it a portable Swift GEMM is used) and tmux (the
# interactive `infer` test drives a real terminal session).
set -euo pipefail
need=()
ldconfig -p | grep -q 'libopenblas\.so\.0' || need+=(libopenblas0-pthread)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
if ((${#need[@]})); then
    echo "setup: installing ${need[*]}"
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
