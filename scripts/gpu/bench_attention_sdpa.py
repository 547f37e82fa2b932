#!/usr/bin/env python3
"""PyTorch SDPA's causal attention forward + backward TFLOP/s, the reference for `swift-tune benchmark attention`.

Same shapes (one sequence of N tokens, Hq query heads over Hkv key-value heads, head dim hd, bf16), the same FLOP
count (forward 4*N^2*Hq*hd / 2 for the causal mask, backward 2.5x the forward) and the same timing (CUDA events around
each call, the median of --repeats after 3 warm-up calls). Each SDPA backend that accepts the shapes is timed (flash,
cuDNN, memory-efficient, with GQA through enable_gqa where the backend takes it, else K and V repeated beforehand,
outside the timing); the fastest is the figure to beat.

    python3 scripts/gpu/bench_attention_sdpa.py --tokens 2048 8192
"""
import argparse
import statistics

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def timed(body, repeats):
    for _ in range(3):
        body()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        body()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, nargs="+", default=[2048, 8192])
    parser.add_argument("--heads", type=int, default=28)
    parser.add_argument("--kv-heads", type=int, default=4)
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    backends = [("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION),
                ("efficient", SDPBackend.EFFICIENT_ATTENTION)]
    group = args.heads // args.kv_heads
    for n in args.tokens:
        shape = lambda heads: (1, heads, n, args.head_dim)
        q = torch.empty(shape(args.heads), device="cuda", dtype=torch.bfloat16).uniform_(-1, 1).requires_grad_()
        k = torch.empty(shape(args.kv_heads), device="cuda", dtype=torch.bfloat16).uniform_(-1, 1).requires_grad_()
        v = torch.empty(shape(args.kv_heads), device="cuda", dtype=torch.bfloat16).uniform_(-1, 1).requires_grad_()
        grad = torch.empty(shape(args.heads), device="cuda", dtype=torch.bfloat16).uniform_(-1, 1)
        flops = 4 * n * n * args.heads * args.head_dim / 2
        best = None
        for name, backend in backends:
            for gqa in (True, False):
                kk = k if gqa else k.detach().repeat_interleave(group, dim=1).requires_grad_()
                vv = v if gqa else v.detach().repeat_interleave(group, dim=1).requires_grad_()
                extra = {"enable_gqa": True} if gqa and group > 1 else {}
                try:
                    with sdpa_kernel([backend]):
                        forward = lambda: F.scaled_dot_product_attention(q, kk, vv, is_causal=True, **extra)
                        out = forward()
                        forward_ms = timed(forward, args.repeats)
                        backward = lambda: torch.autograd.grad(out, (q, kk, vv), grad, retain_graph=True)
                        backward_ms = timed(backward, args.repeats)
                except RuntimeError as error:
                    print(f"  N {n} {name}{' gqa' if gqa else ''}: not available ({str(error).splitlines()[0][:100]})")
                    continue
                total = 3.5 * flops / (forward_ms + backward_ms) / 1e9
                print(f"  N {n} {name}{' gqa' if gqa else ' (K, V repeated)'}: forward {forward_ms:.2f} ms "
                      f"({flops / forward_ms / 1e9:.1f} TFLOP/s), backward {backward_ms:.2f} ms "
                      f"({2.5 * flops / backward_ms / 1e9:.1f} TFLOP/s), forward+backward {total:.1f} TFLOP/s")
                if best is None or total > best[0]:
                    best = (total, name, forward_ms, backward_ms)
        if best:
            total, name, forward_ms, backward_ms = best
            print(f"RESULT sdpa N {n} heads {args.heads}/{args.kv_heads} hd {args.head_dim} causal bf16: best {name}, "
                  f"forward {forward_ms:.2f} ms ({flops / forward_ms / 1e9:.1f} TFLOP/s), backward {backward_ms:.2f} ms "
                  f"({2.5 * flops / backward_ms / 1e9:.1f} TFLOP/s), forward+backward {total:.1f} TFLOP/s")


if __name__ == "__main__":
    main()
