"""Writes a synthetic benchmark text (not committed): one string per line, built from the parity corpus and the
alpaca demo rows, shuffled with a fixed seed and repeated until the file reaches SIZE_MB.
Usage: python3 scripts/bench/make_synthetic_text.py OUT.txt [SIZE_MB=100]
"""
import json
import os
import random
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def pieces():
    out = []
    with open(os.path.join(ROOT, "Tests", "Fixtures", "tokenizers", "corpus.jsonl"), encoding="utf-8") as f:
        out += [json.loads(line) for line in f]
    for name in ("alpaca_en_demo.json", "alpaca_zh_demo.json"):
        with open(os.path.join(ROOT, "..", "shared", "data", "sft", name), encoding="utf-8") as f:
            for row in json.load(f):
                out += [row[k] for k in ("instruction", "input", "output") if row.get(k)]
    # One line per string: newlines inside become spaces or tabs so that line splitting keeps each string whole.
    return [p.replace("\r", " ").replace("\n", " \t") for p in out if p.strip()]


def main():
    path, size_mb = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 100.0
    rng = random.Random(7)
    base = pieces()
    target = int(size_mb * 1e6)
    written = 0
    with open(path, "w", encoding="utf-8") as f:
        while written < target:
            line = " ".join(rng.choice(base) for _ in range(rng.randint(1, 4)))[:2000]
            f.write(line + "\n")
            written += len(line.encode("utf-8")) + 1
    print(f"{path}: {written / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
