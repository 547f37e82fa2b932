#!/usr/bin/env python3
"""Load check for `swift-tune deploy` (issue 8), on loopback only, bounded in time, stopping by itself.

Starts the server on 127.0.0.1 (a port the system picks) with the tiny fixture model, warms it up, then runs N
concurrent streaming chat clients for D seconds (each on one keep-alive connection, one request after another),
and reports: errors (must be 0), the server's RSS before and after the run (and after a second run, to tell
growth from a one-time high-water mark), p50/p99 of request latency and of time to first token, and aggregate
completion tokens/s (from each stream's usage chunk). The server is stopped with SIGTERM (SIGKILL if it does not
exit) whatever happens. Standard library only (a small HTTP/1.1 client over asyncio), so the client costs little CPU.

    swift build -c release --product swift-tune
    python3 scripts/bench/load_check.py --binary .build/release/swift-tune --clients 64 --duration 60
"""
import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

PROMPTS = ["Hi there", "Tell me a story", "What is the capital of France?", "Write a haiku about the sea",
           "Explain gravity briefly", "Count to ten", "Say something nice", "List three colours"]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Connection:
    """One keep-alive HTTP/1.1 connection to the server (127.0.0.1 only)."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    def close(self):
        if self.writer:
            self.writer.close()
        self.reader = self.writer = None

    async def post_stream(self, path, body, on_event):
        """POSTs `body`; calls on_event(payload) for each SSE `data:` payload; returns the status."""
        if self.writer is None:
            await self.open()
        data = json.dumps(body).encode()
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        headers = {}
        while True:
            line = (await self.reader.readline()).decode().strip()
            if not line:
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            buffer = b""
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                buffer += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    if event.startswith(b"data: "):
                        on_event(event[6:].decode())
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
            on_event(body.decode())
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status


async def client(port, deadline, results, max_tokens, seed):
    rng = random.Random(seed)
    connection = Connection(port)
    while time.monotonic() < deadline:
        record = {"error": None, "tokens": 0, "ttft": None, "done": False}
        body = {"model": "qwen2", "messages": [{"role": "user", "content": rng.choice(PROMPTS)}], "stream": True,
                "stream_options": {"include_usage": True}, "max_tokens": max_tokens, "temperature": 0.8,
                "seed": rng.randrange(1 << 31)}
        start = time.monotonic()

        def on_event(payload):
            if payload == "[DONE]":
                record["done"] = True
                return
            chunk = json.loads(payload)
            if "error" in chunk:
                record["error"] = chunk["error"]["message"]
            elif chunk.get("usage"):
                record["tokens"] = chunk["usage"]["completion_tokens"]
            elif record["ttft"] is None and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                record["ttft"] = time.monotonic() - start

        try:
            status = await asyncio.wait_for(connection.post_stream("/v1/chat/completions", body, on_event), 120)
            if status != 200:
                record["error"] = f"HTTP {status}"
            elif not record["done"]:
                record["error"] = "stream ended without [DONE]"
        except Exception as error:  # a reset, a timeout: an error of the run
            record["error"] = repr(error)
            connection.close()
        record["latency"] = time.monotonic() - start
        results.append(record)
    connection.close()


async def run_load(port, clients, duration, max_tokens, seed):
    results = []
    deadline = time.monotonic() + duration
    start = time.monotonic()
    await asyncio.gather(*(client(port, deadline, results, max_tokens, seed * 1000 + i) for i in range(clients)))
    return results, time.monotonic() - start


def summarize(results, elapsed):
    ok = [r for r in results if r["error"] is None]
    errors = [r["error"] for r in results if r["error"] is not None]
    latencies = [r["latency"] for r in ok]
    ttfts = [r["ttft"] for r in ok if r["ttft"] is not None]
    tokens = sum(r["tokens"] for r in ok)
    return {
        "requests": len(results), "errors": len(errors), "first_errors": errors[:5], "elapsed_s": round(elapsed, 1),
        "completion_tokens": tokens, "tokens_per_s": round(tokens / elapsed, 1),
        "requests_per_s": round(len(ok) / elapsed, 2),
        "latency_p50_s": round(percentile(latencies, 50), 3), "latency_p99_s": round(percentile(latencies, 99), 3),
        "ttft_p50_s": round(percentile(ttfts, 50), 3), "ttft_p99_s": round(percentile(ttfts, 99), 3),
    }


def start_server(binary, extra, log):
    command = [binary, "deploy", "--model", "Tests/Fixtures/golden/qwen2", "--host", "127.0.0.1", "--port", "0",
               "--device", "cpu", "--system", "Be brief.", "--log_interval", "10"] + extra
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    return server, command


def wait_for_port(log_path, server, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {open(log_path).read()}")
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", open(log_path).read())
        if match:
            return int(match.group(1))
        time.sleep(0.05)
    raise RuntimeError("the server did not start listening in time")


async def wait_healthy(port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            await writer.drain()
            line = await reader.readline()
            writer.close()
            if b" 200 " in line:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become healthy in time")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/swift-tune")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--max-batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="shorter runs after the main one, RSS after each")
    args = parser.parse_args()
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    log = tempfile.NamedTemporaryFile("w+", prefix="load_check_server_", suffix=".log", delete=False)
    server, command = start_server(args.binary, ["--max_batch_size", str(args.max_batch_size)], log)
    report = {"command": " ".join(command), "clients": args.clients, "duration_s": args.duration,
              "max_tokens": args.max_tokens}
    try:
        port = wait_for_port(log.name, server, 60)
        asyncio.run(wait_healthy(port, 60))
        report["rss_loaded_mib"] = round(rss_mib(server.pid), 1)
        warm, _ = asyncio.run(run_load(port, args.clients, 5, args.max_tokens, args.seed + 100))
        time.sleep(1)
        report["rss_before_mib"] = round(rss_mib(server.pid), 1)
        results, elapsed = asyncio.run(run_load(port, args.clients, args.duration, args.max_tokens, args.seed))
        time.sleep(2)
        report["rss_after_mib"] = round(rss_mib(server.pid), 1)
        report["run"] = summarize(results, elapsed)
        # Shorter runs after it: memory that only grows would grow again each time; a high-water mark stays.
        report["rounds"] = []
        for index in range(args.rounds):
            again, again_elapsed = asyncio.run(run_load(port, args.clients, args.duration / 2, args.max_tokens,
                                                        args.seed + 7 + index))
            time.sleep(2)
            report["rounds"].append(dict(summarize(again, again_elapsed), rss_after_mib=round(rss_mib(server.pid), 1)))
        report["warmup_errors"] = sum(1 for r in warm if r["error"] is not None)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            report["server_exit"] = server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            report["server_exit"] = "killed"
        log.seek(0)
        report["server_log_tail"] = log.read().splitlines()[-6:]
        log.close()
        os.unlink(log.name)
    print(json.dumps(report, indent=2))
    failed = report["run"]["errors"] or any(r["errors"] for r in report["rounds"]) or report["warmup_errors"] \
        or report["server_exit"] != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
