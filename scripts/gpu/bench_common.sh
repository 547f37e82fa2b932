# Shared by the GPU training benchmarks (source it): the text rows, the memory sampler and the step-time reader.

# Rows of alpaca text long enough for any length (each row is many alpaca answers joined) into $1.
bench_text_rows() {
    python3 - "$1" <<'PY'
import json, sys
rows = json.load(open(".device/alpaca_en_demo.json"))
words = " ".join(r["output"] for r in rows).split()
with open(sys.argv[1], "w") as f:
    for i in range(64):
        f.write(json.dumps({"text": " ".join(words[i * 997:] + words[:i * 997])[:200_000]}) + "\n")
PY
}

# peak LOG COMMAND...: runs COMMAND while nvidia-smi's memory.used (MiB) is sampled into LOG every 0.5 s.
peak() {
    local log=$1; shift
    ( while :; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; sleep 0.5; done ) > "$log" &
    local sampler=$!
    "$@"; local rc=$?
    kill $sampler 2>/dev/null; wait $sampler 2>/dev/null || true
    return $rc
}

# bench_step_result LABEL RUN LEN MEM: the RESULT line of a swift-tune run folder: LEN over the median step time of
# steps 3.. (from logging.jsonl's cumulative s/it; step 1 compiles kernels) and the card peak sampled into MEM.
bench_step_result() {
    python3 - "$@" <<'PY'
import glob, json, statistics, sys
label, run, length, mem = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
logs = glob.glob(f"{run}/**/logging.jsonl", recursive=True)
records = [json.loads(l) for l in open(logs[0])] if logs else []
steps = [r for r in records if "loss" in r and "train_speed(s/it)" in r]
elapsed = [float(r["train_speed(s/it)"]) * int(r["global_step/max_steps"].split("/")[0]) for r in steps]
times = [b - a for a, b in zip(elapsed, elapsed[1:])][1:]
peak = max((int(x) for x in open(mem).read().split() if x.isdigit()), default=0) / 1024
if times:
    t = statistics.median(times)
    print(f"RESULT {label} len {length}: {length / t:,.0f} tokens/s ({t:.3f} s/step, {len(times)} steps), "
          f"card peak {peak:.2f} GiB, losses {[round(r['loss'], 3) for r in steps]}")
else:
    print(f"RESULT {label} len {length}: no step times (see the run's log)")
PY
}
