#!/usr/bin/env python3
"""Compile every kernel module Sources/SwiftTuneCUDA/Kernels/*.cu with NVRTC, with no GPU needed, to catch errors early.

NVRTC comes from a CUDA install or from the `nvidia-cuda-nvrtc` wheel (CUDA 13; `nvidia-cuda-nvrtc-cu12` for 12):

    python3 -m pip install --target /tmp/nvrtc nvidia-cuda-nvrtc
    python3 scripts/gpu/compile_kernels_check.py --nvrtc /tmp/nvrtc/nvidia/cu13/lib/libnvrtc.so.13

Compiles each module for each --arch (default sm_90) the same way the Swift side does (KernelLibrary.compilerOptions,
with common.cuh passed to NVRTC as an in-memory header), prints NVRTC's log, checks that every `extern "C" __global__`
kernel of the module is in its PTX, and exits non-zero on any failure.
"""
import argparse
import ctypes
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNELS = os.path.join(ROOT, "Sources", "SwiftTuneCUDA", "Kernels")
HEADER = "common.cuh"
# Keep in step with KernelLibrary.compilerOptions(architecture:) in Sources/SwiftTuneCUDA/KernelLibrary.swift.
BASE_OPTIONS = ["--std=c++17"]


def find_nvrtc(explicit):
    if explicit:
        return [explicit]
    candidates = []
    for variable in ("SWIFT_TUNE_CUDA_LIB_DIR",):
        if os.environ.get(variable):
            candidates.append(os.path.join(os.environ[variable], "libnvrtc.so.13"))
    if os.environ.get("CUDA_HOME"):
        candidates += [os.path.join(os.environ["CUDA_HOME"], "lib64", "libnvrtc.so.13"),
                       os.path.join(os.environ["CUDA_HOME"], "targets", "x86_64-linux", "lib", "libnvrtc.so.13")]
    candidates += ["/usr/local/cuda-13.0/targets/x86_64-linux/lib/libnvrtc.so.13", "/usr/local/cuda/lib64/libnvrtc.so.13"]
    for path in sys.path:
        candidates += sorted(glob.glob(os.path.join(path, "nvidia", "cu1*", "lib", "libnvrtc.so.*")))
        candidates += sorted(glob.glob(os.path.join(path, "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so.*")))
    return candidates + ["libnvrtc.so.13", "libnvrtc.so.12"]


def load(candidates):
    for candidate in candidates:
        if "/" in candidate and not os.path.exists(candidate):
            continue
        try:
            # NVRTC loads its builtins library by soname; load it first from the same folder.
            for builtins in sorted(glob.glob(os.path.join(os.path.dirname(candidate), "libnvrtc-builtins.so*"))):
                ctypes.CDLL(builtins, mode=ctypes.RTLD_GLOBAL)
            return candidate, ctypes.CDLL(candidate)
        except OSError:
            continue
    sys.exit("no libnvrtc found; tried:\n  " + "\n  ".join(candidates))


def check(library, call, result):
    if result != 0:
        library.nvrtcGetErrorString.restype = ctypes.c_char_p
        sys.exit(f"{call} failed: {library.nvrtcGetErrorString(result).decode()}")


def compile_source(library, source, name, header, options, want_cubin):
    program = ctypes.c_void_p()
    headers = (ctypes.c_char_p * 1)(header)
    names = (ctypes.c_char_p * 1)(HEADER.encode())
    check(library, "nvrtcCreateProgram",
          library.nvrtcCreateProgram(ctypes.byref(program), source, name.encode(), 1, headers, names))
    encoded = [option.encode() for option in options]
    array = (ctypes.c_char_p * len(encoded))(*encoded)
    result = library.nvrtcCompileProgram(program, len(encoded), array)
    size = ctypes.c_size_t()
    library.nvrtcGetProgramLogSize(program, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    library.nvrtcGetProgramLog(program, log)
    output = b""
    if result == 0:
        getter = "CUBIN" if want_cubin else "PTX"
        check(library, f"nvrtcGet{getter}Size", getattr(library, f"nvrtcGet{getter}Size")(program, ctypes.byref(size)))
        buffer = ctypes.create_string_buffer(size.value)
        check(library, f"nvrtcGet{getter}", getattr(library, f"nvrtcGet{getter}")(program, buffer))
        output = buffer.raw
    library.nvrtcDestroyProgram(ctypes.byref(program))
    return result, log.value.decode(errors="replace"), output


# ptxas's report (--ptxas-options=-v) of one kernel: its name, then its stack and spills, then its registers.
PTXAS_ENTRY = re.compile(r"Compiling entry function '([A-Za-z_][A-Za-z0-9_]*)'")
PTXAS_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
PTXAS_REGISTERS = re.compile(r"Used (\d+) registers")


def resource_usage(log):
    """Splits NVRTC's log into ptxas's per-kernel report {name: (registers, stack, spill stores, spill loads)} and
    the other lines (warnings and errors)."""
    usage, others, current, frame = {}, [], None, (0, 0, 0)
    for line in log.splitlines():
        if not line.startswith("ptxas"):
            others.append(line)
            continue
        if entry := PTXAS_ENTRY.search(line):
            current = entry.group(1)
        elif match := PTXAS_FRAME.search(line):
            frame = tuple(int(value) for value in match.groups())
        elif (match := PTXAS_REGISTERS.search(line)) and current:
            usage[current] = (int(match.group(1)),) + frame
            current, frame = None, (0, 0, 0)
    return usage, "\n".join(others).strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvrtc", help="path of libnvrtc.so.*")
    parser.add_argument("--arch", action="append", help="sm_XY (repeatable; default sm_90)")
    parser.add_argument("--resources", action="store_true",
                        help="print every kernel's registers, stack and spills (kernels that spill are always printed)")
    arguments = parser.parse_args()

    path, library = load(find_nvrtc(arguments.nvrtc))
    major, minor = ctypes.c_int(), ctypes.c_int()
    library.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    print(f"NVRTC {major.value}.{minor.value} from {path}")

    with open(os.path.join(KERNELS, HEADER), "rb") as handle:
        header = handle.read()
    modules = sorted(name for name in os.listdir(KERNELS) if name.endswith(".cu"))
    if not modules:
        sys.exit(f"no .cu modules in {os.path.relpath(KERNELS, ROOT)}")

    failed = False
    for module in modules:
        with open(os.path.join(KERNELS, module), "rb") as handle:
            source = handle.read()
        kernels = re.findall(rb'extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?([A-Za-z_][A-Za-z0-9_]*)', source)
        for architecture in arguments.arch or ["sm_90"]:
            compute = architecture.replace("sm_", "compute_")
            # The cubin the backend loads, then PTX for the entry check.
            # ptxas -v only adds its report to the log; the cubin is the one the backend compiles.
            result, log, cubin = compile_source(library, source, module, header,
                                                BASE_OPTIONS + [f"--gpu-architecture={architecture}",
                                                                "--ptxas-options=-v"], True)
            usage, log = resource_usage(log)
            if log:
                print(f"--- NVRTC log ({module}, {architecture}) ---\n{log}")
            for name, (registers, stack, stores, loads) in sorted(usage.items()):
                if arguments.resources or stores or loads:
                    spills = f"SPILLS {stores} B stored, {loads} B loaded" if stores or loads else "no spills"
                    print(f"     {name:<40} {registers:>3} registers, {stack:>4} B stack, {spills}")
            if result != 0:
                print(f"FAIL {module} {architecture}: compilation failed")
                failed = True
                continue
            result, _, ptx = compile_source(library, source, module, header,
                                            BASE_OPTIONS + [f"--gpu-architecture={compute}"], False)
            entries = set(re.findall(rb"\.entry\s+([A-Za-z_][A-Za-z0-9_]*)", ptx))
            missing = [name.decode() for name in kernels if name not in entries]
            if missing or not kernels:
                print(f"FAIL {module} {architecture}: kernels missing from the PTX: {', '.join(missing) or 'none in the source'}")
                failed = True
            else:
                print(f"ok   {module:<18} {architecture}: cubin {len(cubin)} bytes, {len(entries)} kernels")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
