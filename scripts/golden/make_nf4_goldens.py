"""bitsandbytes 4-bit (NF4/FP4, double quantization) goldens for SwiftTuneQuantization.BitsAndBytes4Bit.

Usage (from the repository root):
    python3 -m venv .cache/python-bnb
    .cache/python-bnb/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu   # or a local CPU wheel
    .cache/python-bnb/bin/pip install bitsandbytes==0.50.2 numpy safetensors
    .cache/python-bnb/bin/python scripts/golden/make_nf4_goldens.py

Everything comes from bitsandbytes itself, on the CPU (`bitsandbytes.functional.quantize_4bit` /
`dequantize_4bit`, the same calls `bnb.nn.Params4bit` makes); nothing is re-derived here. Writes:

Tests/Fixtures/bnb4bit/goldens.safetensors, for each case `<quant>_<dq|plain>_<name>` (quant nf4/fp4; dq = double
quantization, `compress_statistics=True`):
  input.<name>             F32  the matrix given to quantize_4bit (BF16 for bf16in_3x100: a bf16 input)
  <case>.packed            U8   [(n+1)/2]   the packed codes, element 2j in the high nibble
  <case>.absmax            F32  [blocks]    (plain) the per-64 absmax
  <case>.absmax            U8   [blocks]    (dq) the absmax quantized with the 8-bit dynamic map
  <case>.nested_absmax     F32  [ceil(blocks/256)]  (dq) state2.absmax
  <case>.nested_quant_map  F32  [256]       (dq) state2.code
  <case>.offset            F32  [1]         (dq) the mean of the absmax
  <case>.dequantized_f32   F32  shape       dequantize_4bit(…) in float32
  <case>.dequantized_bf16  BF16 shape       the same in bfloat16 (from a bfloat16 quant_state dtype)
Cases: 1x64, 3x100 (not a multiple of 64, odd last block), 128x256, 7x300, 5x13 (odd element count: a padded
nibble), "ties" (one 64-block with absmax 1 and every value exactly on a midpoint between codes, and just
beside it), "zeros" (an all-zero block, exact zeros, one tiny value).

Tests/Fixtures/bnb4bit/prequantized.safetensors: the layout of a `*-bnb-4bit` checkpoint as transformers saves it
(`Linear4bit` state dict: `QuantState.as_dict(packed=True)`): for `model.layers.0.mlp.down_proj` (nf4, double
quant, bf16 compute dtype, [48, 100]) and `model.layers.0.self_attn.q_proj` (fp4, no double quant, [64, 64]):
`weight` (U8 packed [(n+1)/2, 1]), `weight.absmax`, `weight.quant_map`, `weight.nested_absmax`,
`weight.nested_quant_map`, `weight.quant_state.bitsandbytes__<nf4|fp4>` (U8 bytes of the JSON), plus
`<prefix>.expected` (the bf16 dequantization bitsandbytes gives). The keys come from bitsandbytes' own
`QuantState.as_dict(packed=True)`; transformers is not needed.

Pinned: bitsandbytes 0.50.2, torch 2.13.0+cpu. bitsandbytes' CPU quantizers: 4-bit is its "default" torch
backend (bucketize on the midpoints: a value exactly on a midpoint takes the lower code), the 8-bit nested absmax
its C++ `quantize_cpu` (binary search, then the right neighbour only when strictly closer; code[0] searched as -1).
The offset is torch's float32 `mean` (AVX-512 cascade sum on this machine's CPU).
"""
import json
import os
import sys

import numpy as np
import torch
import bitsandbytes
import bitsandbytes.functional as F
from safetensors.torch import save_file

OUT_DIR = "Tests/Fixtures/bnb4bit"
SEED = 1234


def cases():
    g = torch.Generator().manual_seed(SEED)
    out = {}
    for rows, cols in [(1, 64), (3, 100), (128, 256), (7, 300), (5, 13)]:
        out[f"{rows}x{cols}"] = torch.randn(rows, cols, generator=g) * 0.05
    # Every NF4 and FP4 midpoint (float32, as bitsandbytes computes them), exactly and one ulp either side, in a
    # block whose absmax is 1 (so the scaled value is the value itself).
    ties = []
    for quant in ("nf4", "fp4"):
        code = F.get_4bit_type(quant, device="cpu")
        s = torch.sort(code).values
        mids = ((s[:-1] + s[1:]) / 2).tolist()
        for m in mids:
            m32 = np.float32(m)
            ties += [m32, np.nextafter(m32, np.float32(2)), np.nextafter(m32, np.float32(-2))]
    ties = [1.0] + ties
    ties = ties[: 2 * 64] + [0.0] * (2 * 64 - len(ties[: 2 * 64]))
    ties[64] = -1.0
    out["ties"] = torch.tensor(np.array(ties, dtype=np.float32)).reshape(2, 64)
    zeros = torch.zeros(3, 64)
    zeros[1, 5] = 1e-30
    zeros[2] = torch.randn(64, generator=g)
    zeros[2, ::7] = 0.0
    out["zeros"] = zeros
    return out


def quantize_case(name, quant, double, inp, tensors):
    key = f"{quant}_{'dq' if double else 'plain'}_{name}"
    packed, state = F.quantize_4bit(inp, blocksize=64, quant_type=quant, compress_statistics=double)
    tensors.setdefault(f"input.{name}", inp.clone().contiguous())
    tensors[f"{key}.packed"] = packed.reshape(-1).contiguous()
    tensors[f"{key}.absmax"] = state.absmax.contiguous()
    if double:
        tensors[f"{key}.nested_absmax"] = state.state2.absmax.contiguous()
        tensors[f"{key}.nested_quant_map"] = state.state2.code.contiguous()
        tensors[f"{key}.offset"] = state.offset.reshape(1).float().contiguous()
    state.dtype = torch.float32
    tensors[f"{key}.dequantized_f32"] = F.dequantize_4bit(packed, state).contiguous()
    state.dtype = torch.bfloat16
    tensors[f"{key}.dequantized_bf16"] = F.dequantize_4bit(packed, state).contiguous()
    assert tensors[f"{key}.dequantized_bf16"].dtype == torch.bfloat16


def prequantized():
    g = torch.Generator().manual_seed(SEED + 1)
    tensors = {}
    layers = [("model.layers.0.mlp.down_proj", "nf4", True, (48, 100)),
              ("model.layers.0.self_attn.q_proj", "fp4", False, (64, 64))]
    for prefix, quant, double, shape in layers:
        w = (torch.randn(*shape, generator=g) * 0.02).to(torch.bfloat16)
        packed, state = F.quantize_4bit(w, blocksize=64, quant_type=quant, compress_statistics=double,
                                        quant_storage=torch.uint8)
        tensors[f"{prefix}.weight"] = packed.contiguous()
        for k, v in state.as_dict(packed=True).items():
            tensors[f"{prefix}.weight.{k}"] = v.contiguous()
        tensors[f"{prefix}.expected"] = F.dequantize_4bit(packed, state).contiguous()
        tensors[f"{prefix}.bias"] = torch.zeros(shape[0], dtype=torch.bfloat16)
    return tensors


def main():
    if bitsandbytes.__version__ != "0.50.2":
        print(f"warning: pinned bitsandbytes 0.50.2, running {bitsandbytes.__version__}", file=sys.stderr)
    os.makedirs(OUT_DIR, exist_ok=True)
    tensors = {}
    for name, inp in cases().items():
        for quant in ("nf4", "fp4"):
            for double in (False, True):
                quantize_case(name, quant, double, inp, tensors)
    # A bf16 input (what a bf16 checkpoint quantized on load gives): bitsandbytes widens it to f32 first.
    bf = cases()["3x100"].to(torch.bfloat16)
    quantize_case("bf16in_3x100", "nf4", True, bf, tensors)
    meta = {"bitsandbytes": bitsandbytes.__version__, "torch": torch.__version__, "seed": str(SEED),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    save_file(tensors, os.path.join(OUT_DIR, "goldens.safetensors"), metadata=meta)
    save_file(prequantized(), os.path.join(OUT_DIR, "prequantized.safetensors"), metadata={"format": "pt", **meta})
    print(f"wrote {len(tensors)} tensors; {meta}")


if __name__ == "__main__":
    main()
