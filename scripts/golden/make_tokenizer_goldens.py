"""Parity goldens: the ids HF tokenizers gives for every string of Tests/Fixtures/tokenizers/corpus.jsonl.

For each tokenizer NAME this writes Tests/Fixtures/tokenizers/goldens/NAME.ids (line i: the ids of corpus line i,
encoded with add_special_tokens=False, space-separated) and NAME.json:
  {"added_with_special_tokens": {"prefix": [...], "suffix": [...]}   what add_special_tokens=True adds, checked
                                                                     to be the same for every string,
   "decode": {"i": text}            HF decode(ids, skip_special_tokens=False) where it is not corpus line i,
   "decode_skip_special": {"i": text}  HF decode(ids, skip_special_tokens=True) where it differs from the above}
Tokenizers: the committed spm fixtures and, from .cache/tokenizers (scripts/fetch_test_tokenizers.sh), llama3,
llama3-bos (only the .json, its ids are llama3's), qwen2.5, smollm2.
Pinned: tokenizers 0.23.3 (no torch needed). Usage: python3 scripts/golden/make_tokenizer_goldens.py
"""
import json
import os
import sys

import tokenizers
from tokenizers import Tokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers")
CACHE = os.path.join(ROOT, ".cache", "tokenizers")
TOKENIZERS = {
    "spm-bytefallback": os.path.join(FIXTURES, "spm-bytefallback"),
    "spm-metaspace": os.path.join(FIXTURES, "spm-metaspace"),
    "llama3": os.path.join(CACHE, "llama3"),
    "llama3-bos": os.path.join(CACHE, "llama3-bos"),
    "qwen2.5": os.path.join(CACHE, "qwen2.5"),
    "smollm2": os.path.join(CACHE, "smollm2"),
}


def specials_added(plain, full):
    """(prefix, suffix) such that full == prefix + plain + suffix."""
    for start in range(len(full) - len(plain) + 1):
        if full[start:start + len(plain)] == plain:
            return full[:start], full[start + len(plain):]
    raise SystemExit("add_special_tokens=True does not wrap the plain ids")


def main():
    if tokenizers.__version__ != "0.23.3":
        sys.exit(f"pinned tokenizers 0.23.3, found {tokenizers.__version__}")
    with open(os.path.join(FIXTURES, "corpus.jsonl"), encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f]
    out_dir = os.path.join(FIXTURES, "goldens")
    os.makedirs(out_dir, exist_ok=True)
    for name, directory in TOKENIZERS.items():
        tok = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        lines, decode, decode_skip, wrap = [], {}, {}, None
        for i, text in enumerate(corpus):
            ids = tok.encode(text, add_special_tokens=False).ids
            full = tok.encode(text, add_special_tokens=True).ids
            if wrap is None and ids:
                wrap = specials_added(ids, full)
            if wrap is not None and full != wrap[0] + ids + wrap[1]:
                sys.exit(f"{name}: line {i}: add_special_tokens gives {full}, not {wrap[0]} + ids + {wrap[1]}")
            lines.append(" ".join(map(str, ids)))
            text_out = tok.decode(ids, skip_special_tokens=False)
            if text_out != text:
                decode[str(i)] = text_out
            skipped = tok.decode(ids, skip_special_tokens=True)
            if skipped != text_out:
                decode_skip[str(i)] = skipped
        if name != "llama3-bos":
            with open(os.path.join(out_dir, f"{name}.ids"), "w", encoding="ascii") as f:
                f.write("\n".join(lines) + "\n")
        meta = {"added_with_special_tokens": {"prefix": wrap[0], "suffix": wrap[1]}, "decode": decode,
                "decode_skip_special": decode_skip}
        with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False, indent=0, sort_keys=True)
            f.write("\n")
        print(f"{name}: {len(corpus)} strings, {sum(len(l.split()) for l in lines)} ids, "
              f"{len(decode)} decode differences, {len(decode_skip)} with skip_special_tokens")


if __name__ == "__main__":
    main()
