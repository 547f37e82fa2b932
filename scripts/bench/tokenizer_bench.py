"""HF tokenizers encode throughput, the reference for swift-tune's runTokenizerBenchmark (same strings, same rules).

One thread (TOKENIZERS_PARALLELISM=false, RAYON_NUM_THREADS=1), one string at a time with Tokenizer.encode
(encode_batch is not used), add_special_tokens=False. Strings per file: .json alpaca rows (instruction, input,
output joined by "\n", empty fields left out); .jsonl one JSON string (or {"text": …}) per line; else one string
per non-empty line. Files under 10 MB: 3 passes, the first (cold cache) and the best reported. Pinned: tokenizers 0.23.3.
Usage: python3 scripts/bench/tokenizer_bench.py TOKENIZER_DIR FILE...
"""
import os

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402


def strings(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".json"):
        rows = json.loads(data)
        return ["\n".join(row[k] for k in ("instruction", "input", "output") if row.get(k)) for row in rows]
    lines = [line for line in data.split(b"\n") if line]
    if path.endswith(".jsonl"):
        out = []
        for line in lines:
            value = json.loads(line)
            out.append(value if isinstance(value, str) else value["text"])
        return out
    return [line.decode("utf-8", errors="replace") for line in lines]


def main():
    directory, files = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    tok = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    print(f"tokenizer {directory}: tokenizers {tokenizers.__version__}, loaded in {time.perf_counter() - start:.2f} s")
    print("| file | strings | MB | tokens | first pass s | tokens/s (first) | best s | tokens/s (best) | MB/s (best) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in files:
        texts = strings(path)
        size = sum(len(t.encode("utf-8")) for t in texts)
        times, tokens = [], 0
        for _ in range(3 if size < 10_000_000 else 1):
            count = 0
            start = time.perf_counter()
            for text in texts:
                count += len(tok.encode(text, add_special_tokens=False).ids)
            times.append(time.perf_counter() - start)
            tokens = count
        mb, first, best = size / 1e6, times[0], min(times)
        print(f"| {os.path.basename(path)} | {len(texts)} | {mb:.2f} | {tokens} | {first:.3f} | {tokens / first:.0f} | "
              f"{best:.3f} | {tokens / best:.0f} | {mb / best:.2f} |")


if __name__ == "__main__":
    main()
