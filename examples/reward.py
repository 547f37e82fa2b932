#!/usr/bin/env python3
"""A user reward for `rlhf --rlhf_type grpo --reward_command "python3 examples/reward.py"`.

swift-tune starts it once and writes one JSON object per completion to its stdin (`prompt`, `completion`,
`completion_tokens`, `terminated` and the row's columns, here `solution`); it answers one number per line on stdout.
This one gives 1 when the completion contains the row's solution as a number of its own, 0.1 for a completion that
ends on a stop token without it, 0 otherwise.
"""
import json
import re
import sys

for line in sys.stdin:
    sample = json.loads(line)
    numbers = re.findall(r"-?\d+", sample["completion"])
    solution = str(sample.get("solution", "")).strip()
    reward = 1.0 if solution in numbers else (0.1 if sample.get("terminated") else 0.0)
    print(reward, flush=True)
