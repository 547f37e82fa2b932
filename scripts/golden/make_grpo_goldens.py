"""Goldens for `swift-tune rlhf --rlhf_type grpo`: TRL's GRPOTrainer on the tiny qwen2 golden decoder with a PEFT
LoRA adapter, for fixed prompts, fixed completions and fixed rewards.

Every number comes from TRL: the script builds a GRPOTrainer per case, hands it the fixed completions through TRL's
own `rollout_func` hook (so no sampling happens), scores them with two reward functions that return the fixed rewards
of the rows, and runs the trainer's `_generate_and_score_completions` (reference log-probabilities with the adapter
disabled, group-normalised advantages, reward and length metrics) and `_compute_loss` (the policy loss, KL, clip
metrics), then `loss.backward()`. Nothing here re-implements a loss.

Inputs (OUT/rows.json, read by the Swift tests):
  prompts       PROMPTS prompts of PROMPT_LENGTH random token ids in [3, 300) (one length: TRL left-pads prompts)
  completions   per prompt NUM_GENERATIONS completions of 2..MAX_COMPLETION_LENGTH ids, one of them ending in EOS
  rewards       per completion the values of the reward functions `fixed_a` and `fixed_b` (weights REWARD_WEIGHTS);
                the second prompt's group has equal total rewards (a zero-std group)
  old_logps     per completion per token: the policy's log-probabilities plus N(0, OLD_NOISE²) noise, handed to the
                loss as `old_per_token_logps` in the cases with `old: true` (so ratios ≠ 1 and some are clipped)
Per case (OUT/cases.json): the settings, TRL's advantages, its per-token policy and reference log-probabilities, the
loss, the logged metrics (the mean over the trainer's records) and the LoRA gradient norm; OUT/gradients.safetensors
has "<case>/<peft name>" for GRADIENT_TENSORS. The adapter: LoraConfig(r=4, lora_alpha=8, lora_dropout=0,
target_modules="all-linear") with every lora_A / lora_B overwritten with N(0, 0.05²) draws from torch.Generator(SEED)
in named_parameters order; saved as OUT/initial_adapter.

Runs on CPU in float32 with eager attention. Usage from the repository root, with torch (CPU), transformers, peft,
trl, datasets, safetensors:
  python scripts/golden/make_grpo_goldens.py [OUT_DIR]        (default Tests/Fixtures/grpo)
"""
import hashlib
import json
import os
import platform
import shutil
import sys
import warnings

import datasets
import peft
import torch
import transformers
import trl
from datasets import Dataset
from peft import LoraConfig
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

warnings.filterwarnings("ignore")
transformers.logging.set_verbosity_error()
datasets.disable_progress_bars()

MODEL_DIR = "Tests/Fixtures/golden/qwen2"
SEED = 1234
PROMPTS, PROMPT_LENGTH, NUM_GENERATIONS, MAX_COMPLETION_LENGTH = 2, 6, 4, 8
TEMPERATURE = 0.7
REWARD_WEIGHTS = [1.0, 0.5]
OLD_NOISE = 0.3
LORA = dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear")
INIT_STD = 0.05
GRADIENT_TENSORS = ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight",
                    "base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight",
                    "base_model.model.model.layers.1.mlp.down_proj.lora_A.default.weight",
                    "base_model.model.model.layers.1.mlp.down_proj.lora_B.default.weight"]

# name, GRPOConfig settings, whether old_per_token_logps are handed in. use_bias_correction_kl is TRL 1.16's default
# (the KL estimate times the importance ratio); ms-swift's GRPO has no such term, so most cases turn it off and two
# keep it.
PLAIN_KL = dict(use_bias_correction_kl=False)
CASES = [
    ("grpo", dict(loss_type="grpo", beta=0.0), False),
    ("grpo/beta", dict(loss_type="grpo", beta=0.04, **PLAIN_KL), False),
    ("grpo/old", dict(loss_type="grpo", beta=0.04, **PLAIN_KL), True),
    ("bnpo", dict(loss_type="bnpo", beta=0.04, **PLAIN_KL), True),
    ("dr_grpo", dict(loss_type="dr_grpo", beta=0.04, scale_rewards="none", **PLAIN_KL), True),
    ("dapo", dict(loss_type="dapo", beta=0.0, epsilon_high=0.28), True),
    ("gspo", dict(loss_type="grpo", beta=0.04, importance_sampling_level="sequence", **PLAIN_KL), True),
    ("cispo", dict(loss_type="cispo", beta=0.0, epsilon_high=1.1), True),
    ("sapo", dict(loss_type="sapo", beta=0.04, **PLAIN_KL), True),
    ("scale_batch", dict(loss_type="grpo", beta=0.04, scale_rewards="batch", **PLAIN_KL), True),
    ("kl_bias_correction", dict(loss_type="grpo", beta=0.04, use_bias_correction_kl=True), True),
    ("gspo/kl_bias_correction", dict(loss_type="grpo", beta=0.04, importance_sampling_level="sequence",
                                     use_bias_correction_kl=True), True),
]


def make_rows(eos):
    generator = torch.Generator().manual_seed(SEED)
    prompts, completions, rewards = [], [], []
    for p in range(PROMPTS):
        prompts.append(torch.randint(3, 300, (PROMPT_LENGTH,), generator=generator).tolist())
        group = []
        for g in range(NUM_GENERATIONS):
            length = int(torch.randint(2, MAX_COMPLETION_LENGTH + 1, (1,), generator=generator))
            ids = torch.randint(3, 300, (length,), generator=generator).tolist()
            if g == 1:  # one completion that stopped on EOS
                ids[-1] = eos
            group.append(ids)
        completions.append(group)
        if p == 1:  # equal totals a + 0.5 b = 1: a zero-std group
            rewards.append([[1.0, 0.0], [0.5, 1.0], [0.0, 2.0], [1.0, 0.0]])
        else:
            rewards.append([[round(float(torch.rand(1, generator=generator)), 4),
                             round(float(torch.randint(0, 2, (1,), generator=generator)), 4)]
                            for _ in range(NUM_GENERATIONS)])
    noise = [[(torch.randn(len(ids), generator=generator) * OLD_NOISE).tolist() for ids in group] for group in completions]
    return prompts, completions, rewards, noise


def reseed_adapter(model):
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.copy_(torch.randn(p.shape, generator=generator) * INIT_STD)


def make_trainer(out, settings, prompts, completions, rewards):
    tok = AutoTokenizer.from_pretrained(MODEL_DIR)
    if tok.pad_token is None:
        tok.pad_token = tok.convert_ids_to_tokens(0)
    flat_prompts = [p for p in prompts for _ in range(NUM_GENERATIONS)]
    flat_completions = [c for group in completions for c in group]
    flat_rewards = [r for group in rewards for r in group]

    def rollout(batch_prompts, trainer):
        assert len(batch_prompts) == len(flat_completions)
        return dict(prompt_ids=[list(p) for p in flat_prompts], completion_ids=[list(c) for c in flat_completions],
                    logprobs=None, fixed_a=[r[0] for r in flat_rewards], fixed_b=[r[1] for r in flat_rewards])

    def fixed_a(prompts, completions, fixed_a, **kwargs):
        return list(fixed_a)

    def fixed_b(prompts, completions, fixed_b, **kwargs):
        return list(fixed_b)

    config = dict(output_dir=os.path.join(out, "tmp"), report_to="none", use_cpu=True, bf16=False, fp16=False,
                  seed=SEED, logging_steps=1, per_device_train_batch_size=PROMPTS * NUM_GENERATIONS,
                  num_generations=NUM_GENERATIONS, max_completion_length=MAX_COMPLETION_LENGTH,
                  temperature=TEMPERATURE, reward_weights=REWARD_WEIGHTS, gradient_checkpointing=False,
                  remove_unused_columns=False)
    config.update(settings)
    args = trl.GRPOConfig(**config)
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32, attn_implementation="eager")
    dataset = Dataset.from_dict({"prompt": ["x"] * PROMPTS})
    trainer = trl.GRPOTrainer(model=model, reward_funcs=[fixed_a, fixed_b], args=args, train_dataset=dataset,
                              processing_class=tok, peft_config=LoraConfig(task_type="CAUSAL_LM", **LORA),
                              rollout_func=rollout)
    reseed_adapter(trainer.model)
    return trainer


def pad_rows(rows, value):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.float32)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/grpo"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    eos = AutoTokenizer.from_pretrained(MODEL_DIR).eos_token_id
    prompts, completions, rewards, noise = make_rows(eos)
    flat_completions = [c for group in completions for c in group]
    cases, gradients = {}, {}
    old_logps = None
    for name, settings, use_old in CASES:
        trainer = make_trainer(out, settings, prompts, completions, rewards)
        model = trainer.model
        model.train()
        trainer.current_gradient_accumulation_steps = 1
        batch = [{"prompt": "x"} for _ in range(PROMPTS) for _ in range(NUM_GENERATIONS)]
        inputs = trainer._generate_and_score_completions(batch)
        mask = inputs["completion_mask"]
        with torch.no_grad():
            input_ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
            attention = torch.cat([inputs["prompt_mask"], mask], dim=1)
            policy, _, _ = trainer._get_per_token_logps_and_entropies(model, input_ids, attention,
                                                                       inputs["completion_ids"].size(1))
        if old_logps is None:
            old_logps = [[float(policy[i, t]) + noise_i[t] for t in range(len(noise_i))]
                         for i, noise_i in enumerate(n for group in noise for n in group)]
        if use_old:
            inputs["old_per_token_logps"] = pad_rows(old_logps, 0.0)
        model.zero_grad(set_to_none=True)
        loss = trainer._compute_loss(model, inputs)
        loss.backward()
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for _, p in named if p.grad is not None)).item()
        for n, p in named:
            if n in GRADIENT_TENSORS:
                gradients[f"{name}/{n}"] = p.grad.detach().clone().contiguous()
        metrics = {k: float(sum(v) / len(v)) for k, v in trainer._metrics["train"].items()
                   if v and k not in ("num_tokens", "entropy")}
        lengths = [len(c) for c in flat_completions]
        def unpad(t):
            return [[float(t[i, j]) for j in range(lengths[i])] for i in range(len(lengths))]
        cases[name] = dict(settings=dict(settings, old=use_old), loss=loss.item(), grad_norm=norm, metrics=metrics,
                           advantages=[float(a) for a in inputs["advantages"]], policy_logps=unpad(policy),
                           ref_logps=unpad(inputs["ref_per_token_logps"]) if "ref_per_token_logps" in inputs else None)
        print(f"{name:>12}: loss {loss.item():.6f} grad_norm {norm:.6f} advantages "
              f"{[round(a, 4) for a in cases[name]['advantages']]}")
        if name == "grpo":
            model.save_pretrained(os.path.join(out, "initial_adapter"))
    with open(os.path.join(out, "rows.json"), "w") as f:
        json.dump(dict(prompts=prompts, completions=completions, rewards=rewards, reward_weights=REWARD_WEIGHTS,
                       old_logps=old_logps, temperature=TEMPERATURE, num_generations=NUM_GENERATIONS,
                       max_completion_length=MAX_COMPLETION_LENGTH, eos_token_id=eos), f, indent=1)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    save_file(gradients, os.path.join(out, "gradients.safetensors"))
    readme = os.path.join(out, "initial_adapter", "README.md")
    if os.path.exists(readme):
        os.remove(readme)
    with open(__file__, "rb") as f:
        script_hash = hashlib.sha256(f.read()).hexdigest()
    manifest = dict(script="scripts/golden/make_grpo_goldens.py", script_sha256=script_hash, seed=SEED,
                    model=MODEL_DIR, lora=LORA, init_std=INIT_STD, gradient_tensors=GRADIENT_TENSORS,
                    python=platform.python_version(), torch=torch.__version__, transformers=transformers.__version__,
                    peft=peft.__version__, trl=trl.__version__, device="cpu", dtype="float32", attention="eager")
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    shutil.rmtree(os.path.join(out, "tmp"), ignore_errors=True)


if __name__ == "__main__":
    main()
