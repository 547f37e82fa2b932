"""Quantization goldens for swift-tune's GGUF writer (GGMLQuantizer).

Usage: python3 scripts/golden/make_quant_goldens.py   (from the repository root; needs scripts/setup_llama_cpp.sh)
Writes Tests/Fixtures/export/quant_goldens.gguf with
  input              F32 [8, 512]  deterministic rows (normal, outliers, an all-zero and a constant block, tiny
                                   values, a ramp, halves that land on rounding ties)
  <type>             the input quantized, raw blocks of that ggml type
  <type>.dequantized F32 [8, 512]  gguf-py's dequantization of those blocks
for F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0 (quantized by gguf-py 0.19.0's gguf.quants.quantize, the converter's own code)
and Q4_K, Q6_K (which gguf-py cannot quantize: quantized by ggml itself, `ggml_quantize_chunk` without an importance
matrix = quantize_row_q4_K_ref / q6_K_ref, from the libggml-base of llama-cpp-python 0.3.36 built here).
The legacy types are also quantized by ggml and must agree byte for byte with gguf-py, or the script stops.
Pinned: gguf 0.19.0, numpy 2.x, llama-cpp-python 0.3.36. Deterministic: the same versions give identical files.
"""
import ctypes
import glob
import hashlib
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T

OUT = "Tests/Fixtures/export/quant_goldens.gguf"
ROWS, COLS = 8, 512


def make_input():
    rng = np.random.default_rng(20240607)
    x = rng.standard_normal((ROWS, COLS)).astype(np.float32) * np.float32(0.02)
    x[1] *= np.float32(40)                                  # large values
    x[2, ::37] = np.float32(3.5)                            # outliers
    x[3, :256] = 0                                          # an all-zero super-block
    x[3, 256:288] = np.float32(0.125)                       # a constant block
    x[4] = (rng.standard_normal(COLS) * 1e-6).astype(np.float32)   # tiny values
    x[5] = np.linspace(-1, 1, COLS, dtype=np.float32)       # a ramp
    x[6] = np.abs(x[6])                                     # all positive (Q4_1/K mins at 0)
    x[7] = (np.round(rng.standard_normal(COLS) * 8) / 8).astype(np.float32)  # many exact halves: rounding ties
    return x


def ggml_library():
    import llama_cpp
    base = os.path.dirname(llama_cpp.__file__)
    candidates = glob.glob(os.path.join(base, "**", "libggml-base.so*"), recursive=True)
    if not candidates:
        sys.exit(f"libggml-base.so not found under {base}")
    lib = ctypes.CDLL(candidates[0])
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_void_p]
    return lib


def ggml_quantize(lib, x, qtype):
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    out = np.zeros((x.shape[0], x.shape[1] // block * size), dtype=np.uint8)
    src = np.ascontiguousarray(x, dtype=np.float32)
    written = lib.ggml_quantize_chunk(int(qtype), src.ctypes.data, out.ctypes.data, 0, x.shape[0], x.shape[1], None)
    assert written == out.size, (qtype.name, written, out.size)
    return out


def main():
    x = make_input()
    lib = ggml_library()
    writer = gguf.GGUFWriter(OUT, arch="quant-goldens")
    writer.add_string("golden.script", "scripts/golden/make_quant_goldens.py")
    writer.add_string("golden.gguf_version", "0.19.0")
    writer.add_tensor("input", x)
    for qtype in [T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q4_K, T.Q6_K]:
        if qtype in (T.Q4_K, T.Q6_K):
            q = ggml_quantize(lib, x, qtype)
        else:
            q = gguf.quants.quantize(x, qtype)
            if qtype not in (T.F16,):
                theirs = ggml_quantize(lib, x, qtype) if qtype != T.BF16 else None
                if theirs is not None and not np.array_equal(q.view(np.uint8).reshape(theirs.shape), theirs):
                    sys.exit(f"{qtype.name}: gguf-py and ggml disagree")
        raw = q.view(np.uint8).reshape(ROWS, -1)
        writer.add_tensor(qtype.name, raw, raw_dtype=qtype)
        writer.add_tensor(qtype.name + ".dequantized", gguf.quants.dequantize(raw, qtype).astype(np.float32))
        print(f"{qtype.name}: sha256 {hashlib.sha256(raw.tobytes()).hexdigest()[:16]}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
