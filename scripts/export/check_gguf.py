"""Reads GGUF files written by `swift-tune export` with the PyPI tools, for the export tests.

  check_gguf.py manifest FILE
      gguf 0.19.0's GGUFReader: prints JSON {"metadata": [[key, type, value], …], "tensors": [[name, type, ne,
      sha256 of the raw bytes, sha256 of gguf-py's f32 dequantization], …]} for comparison with swift-tune's reader.
  check_gguf.py greedy FILE --prompt 1,2,3 --steps 16 [--text "…"]
      llama.cpp (PyPI llama-cpp-python 0.3.36, scripts/setup_llama_cpp.sh): evaluates the prompt ids, then takes the
      argmax token `steps` times; prints JSON {"tokens": […], "text_tokens": […]} (text_tokens: llama.cpp's
      tokenization of --text, special tokens parsed, no BOS added).
Exit status 2 when a needed package is missing (with the command that installs it).
"""
import argparse
import hashlib
import json
import sys

import numpy as np


def need(module, hint):
    try:
        return __import__(module)
    except ImportError:
        print(f"check_gguf.py: python module {module} is missing ({hint})", file=sys.stderr)
        sys.exit(2)


def value_json(field):
    from gguf import GGUFValueType
    types = [GGUFValueType(t) for t in field.types]
    main = types[0]
    contents = field.contents()
    if main == GGUFValueType.ARRAY:
        # The element type as stored (gguf-py lists none for an empty array): the part after the array's tag.
        element = GGUFValueType(int(field.parts[3][0]))
        return "array[" + element.name.lower() + "]", contents
    return main.name.lower(), contents


def manifest(path):
    gguf = need("gguf", "scripts/fetch_test_tokenizers.sh installs gguf==0.19.0")
    reader = gguf.GGUFReader(path)
    metadata = []
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        kind, value = value_json(field)
        metadata.append([key, kind, value])
    tensors = []
    for t in reader.tensors:
        raw = np.ascontiguousarray(t.data).view(np.uint8).tobytes()
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype("<f4")
        tensors.append([t.name, t.tensor_type.name, [int(n) for n in t.shape], hashlib.sha256(raw).hexdigest(),
                        hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()])
    json.dump({"metadata": metadata, "tensors": tensors}, sys.stdout)


def greedy(path, prompt, steps, text):
    llama_cpp = need("llama_cpp", "run scripts/setup_llama_cpp.sh")
    llm = llama_cpp.Llama(model_path=path, n_ctx=max(64, len(prompt) + steps + 8), n_batch=512, n_threads=2,
                          logits_all=True, verbose=False)
    llm.eval(prompt)
    tokens = []
    for _ in range(steps):
        token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        tokens.append(token)
        llm.eval([token])
    text_tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True) if text is not None else None
    json.dump({"tokens": tokens, "text_tokens": text_tokens}, sys.stdout)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("manifest")
    m.add_argument("file")
    g = sub.add_parser("greedy")
    g.add_argument("file")
    g.add_argument("--prompt", required=True)
    g.add_argument("--steps", type=int, default=16)
    g.add_argument("--text")
    args = parser.parse_args()
    if args.command == "manifest":
        manifest(args.file)
    else:
        greedy(args.file, [int(t) for t in args.prompt.split(",")], args.steps, args.text)


if __name__ == "__main__":
    main()
