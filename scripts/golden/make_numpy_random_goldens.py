"""Goldens for numpy's legacy RandomState and default_rng, as ms-swift / HF datasets use them for sampling.

Writes OUT/numpy_random.json with, per (seed, n): RandomState(seed).permutation(n), the sample_dataset indices
ms-swift draws for `#N`, RandomState(seed).randint(0, 2**31 - 1) x3 (ms-swift get_seed) and
default_rng(seed).permutation(n) (HF datasets shuffle/train_test_split).
Needs: numpy. Usage: python3 scripts/golden/make_numpy_random_goldens.py [OUT_DIR]  (default Tests/Fixtures/data)
"""
import json
import os
import sys

import numpy as np


def sample_dataset(n, dataset_sample, rs):
    """ms-swift swift/dataset/utils.py sample_dataset(shuffle=True) index logic."""
    n_repeat, n_remain = dataset_sample // n, dataset_sample % n
    idx = np.tile(range(n), n_repeat)
    if n_remain >= 1:
        idx = np.concatenate([idx, rs.permutation(n)[:n_remain]])
    return [int(i) for i in idx]


def checksum(perm):
    """sum(p[i]^2 * i) mod 2^61-1, in Python integers."""
    m = 2**61 - 1
    return sum(int(p) * int(p) * i % m for i, p in enumerate(perm)) % m


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/data"
    cases = []
    for seed in (0, 1, 42, 2024, 4294967295):
        for n in (1, 2, 7, 100, 1000, 70000):
            perm = np.random.RandomState(seed).permutation(n)
            rs = np.random.RandomState(seed)
            seeds = [int(rs.randint(0, np.iinfo(np.int32).max)) for _ in range(3)]
            case = dict(seed=seed, n=n, permutation_head=[int(x) for x in perm[:50]], checksum=checksum(perm),
                        get_seed=seeds,
                        default_rng_head=[int(x) for x in np.random.default_rng(seed).permutation(n)[:50]],
                        default_rng_checksum=checksum(np.random.default_rng(seed).permutation(n)))
            if n in (7, 100):
                case["sample_below"] = sample_dataset(n, max(1, n // 3), np.random.RandomState(seed))
                case["sample_above"] = sample_dataset(n, 2 * n + n // 2 + 1, np.random.RandomState(seed))
            cases.append(case)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "numpy_random.json"), "w") as f:
        json.dump(dict(numpy=np.__version__, cases=cases), f, indent=1)
    print(len(cases), "cases, numpy", np.__version__)


if __name__ == "__main__":
    main()
