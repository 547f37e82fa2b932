"""Goldens for `swift-tune rlhf`: TRL's preference losses (DPO and every DPO loss_type, KTO, CPO, SimPO, ORPO, reward
modelling) on the tiny qwen2 golden decoder with a PEFT LoRA adapter, computed by TRL's own trainers.

Every number comes from TRL: the script builds each trainer (DPOTrainer, KTOTrainer, CPOTrainer, ORPOTrainer,
RewardTrainer) on the tiny model, then feeds it fixed token ids through the trainer's own collator and loss method
(`DPOTrainer._compute_loss`, `KTOTrainer._compute_loss`, `CPOTrainer/ORPOTrainer.get_batch_loss_metrics`,
`RewardTrainer.compute_loss`) and reads the metrics the trainer logs. Nothing here re-implements a loss.

Inputs (written to OUT/rows.json, read by the Swift tests):
  pairs       PAIRS preference pairs of random token ids in [3, 300): prompt_ids, chosen_ids, rejected_ids
  kto         KTO_ROWS rows: prompt_ids, completion_ids, label (true, false, true, false)
The adapter: PEFT LoraConfig(r=4, lora_alpha=8, lora_dropout=0, target_modules="all-linear"), created by the trainer
(peft_config=…), then every lora_A / lora_B overwritten with N(0, 0.05²) draws from torch.Generator(SEED) in
named_parameters order, so the policy differs from the reference (the base with the adapter disabled, which is TRL's
reference for a fresh peft adapter). Saved as OUT/initial_adapter (PEFT's save_pretrained); the reward model's adapter
(task SEQ_CLS, plus `score` in modules_to_save, score drawn the same way) as OUT/rm_initial_adapter.

Per case (OUT/cases.json): loss, TRL's logged metrics for that one batch (all rows in one micro-batch), the global norm of
the LoRA gradient and (OUT/gradients.safetensors, "<case>/<peft name>") the gradients of a few LoRA tensors
(GRADIENT_TENSORS) of loss.backward().
Curves (OUT/curves.json): 10 optimizer steps per rlhf type on the same batch: loss.backward(), clip_grad_norm_(1.0),
torch AdamW(lr=CURVE_LR, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, foreach=False), constant rate; per step the
loss, grad_norm (before clipping) and metrics.

Runs on CPU in float32 with eager attention. Usage from the repository root, in a venv with torch (CPU), transformers,
peft, trl, datasets, safetensors:
  python scripts/golden/make_preference_goldens.py [OUT_DIR]        (default Tests/Fixtures/preference)
"""
import hashlib
import json
import os
import platform
import sys
import warnings

import peft
import torch
import transformers
import trl
from trl.experimental.cpo import CPOConfig, CPOTrainer
from trl.experimental.orpo import ORPOConfig, ORPOTrainer
import datasets
from datasets import Dataset
from peft import LoraConfig
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

warnings.filterwarnings("ignore")
transformers.logging.set_verbosity_error()
datasets.disable_progress_bars()

MODEL_DIR = "Tests/Fixtures/golden/qwen2"
SEED = 1234
PAIRS = 3
KTO_ROWS = 4
LORA = dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear")
INIT_STD = 0.05
CURVE_STEPS, CURVE_LR = 10, 5e-3
GRADIENT_TENSORS = ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight",
                    "base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight",
                    "base_model.model.model.layers.1.mlp.down_proj.lora_A.default.weight",
                    "base_model.model.model.layers.1.mlp.down_proj.lora_B.default.weight"]

# ms-swift's DPO loss_type names (TRL 0.2x) → TRL 1.x's: the paired sorting loss is `aot` in TRL 1.x (`aot_pair`
# before), the unpaired one `aot_unpaired` (`aot` before).
DPO_CASES = [
    # name, TRL loss types, weights, beta, label_smoothing
    ("sigmoid", ["sigmoid"], None, 0.1, 0.0),
    ("hinge", ["hinge"], None, 0.1, 0.0),
    ("ipo", ["ipo"], None, 0.1, 0.0),
    ("robust", ["robust"], None, 0.1, 0.1),
    ("bco_pair", ["bco_pair"], None, 0.1, 0.0),
    ("sppo_hard", ["sppo_hard"], None, 0.1, 0.0),
    ("nca_pair", ["nca_pair"], None, 0.1, 0.0),
    ("aot", ["aot_unpaired"], None, 0.1, 0.05),
    ("aot_pair", ["aot"], None, 0.1, 0.05),
    ("apo_zero", ["apo_zero"], None, 0.1, 0.0),
    ("apo_down", ["apo_down"], None, 0.1, 0.0),
    ("exo_pair", ["exo_pair"], None, 0.1, 1e-3),
    ("discopop", ["discopop"], None, 0.1, 0.0),
    ("sigmoid_norm", ["sigmoid_norm"], None, 0.1, 0.0),
    # rpo_alpha 0.5: DPO + 0.5 · NLL of the chosen answers (TRL 1.x spells it loss_type [sigmoid, sft])
    ("rpo", ["sigmoid", "sft"], [1.0, 0.5], 0.1, 0.0),
    # several losses with weights (MPO-style)
    ("weighted", ["sigmoid", "bco_pair", "sft"], [0.8, 0.2, 1.0], 0.1, 0.0),
    ("beta_0.5", ["sigmoid"], None, 0.5, 0.0),
]


def random_ids(generator, low, high):
    length = int(torch.randint(low, high, (1,), generator=generator))
    return torch.randint(3, 300, (length,), generator=generator).tolist()


def make_rows():
    generator = torch.Generator().manual_seed(SEED)
    pairs = []
    for _ in range(PAIRS):
        prompt = random_ids(generator, 4, 8)
        chosen, rejected = random_ids(generator, 3, 7), random_ids(generator, 3, 7)
        pairs.append(dict(prompt_ids=prompt, chosen_ids=chosen, rejected_ids=rejected))
    kto = []
    for i in range(KTO_ROWS):
        kto.append(dict(prompt_ids=random_ids(generator, 4, 8), completion_ids=random_ids(generator, 3, 7),
                        label=i % 2 == 0))
    return pairs, kto


def text_dataset(kind):
    if kind == "kto":
        return Dataset.from_dict({"prompt": ["a b", "c d"], "completion": [" e", " f"], "label": [True, False]})
    if kind == "rm":
        return Dataset.from_dict({"chosen": ["a b e", "c d f"], "rejected": ["a b f", "c d e"]})
    return Dataset.from_dict({"prompt": ["a b", "c d"], "chosen": [" e", " f"], "rejected": [" f", " e"]})


def tokenizer():
    tok = AutoTokenizer.from_pretrained(MODEL_DIR)
    if tok.pad_token is None:
        tok.pad_token = tok.convert_ids_to_tokens(0)
    return tok


def causal_model():
    return AutoModelForCausalLM.from_pretrained(MODEL_DIR, dtype=torch.float32, attn_implementation="eager")


def reseed_adapter(model):
    """Overwrite the trainable adapter weights with seeded draws (so the policy is not the reference)."""
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.copy_(torch.randn(p.shape, generator=generator) * INIT_STD)


def common_args(config_class, out, **extra):
    return config_class(output_dir=os.path.join(out, "tmp"), report_to="none", gradient_checkpointing=False,
                        per_device_train_batch_size=PAIRS, remove_unused_columns=False, use_cpu=True,
                        bf16=False, fp16=False, seed=SEED, logging_steps=1, **extra)


def lora_gradients(model):
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for _, p in named if p.grad is not None)).item()
    return norm, {n: p.grad.detach().clone() for n, p in named if n in GRADIENT_TENSORS or n.startswith("base_model.model.score")}


def drain_metrics(trainer):
    metrics = {k: v[-1] for k, v in trainer._metrics["train"].items() if v and k not in ("num_tokens", "entropy")}
    trainer._metrics["train"].clear()
    return {k: float(v) for k, v in metrics.items()}


def pad(rows, value):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows])


def pair_batch(pairs):
    """CPO/ORPO's tokenized batch layout (chosen_*, rejected_*; labels -100 on the prompt), right-padded."""
    batch = {}
    for side in ("chosen", "rejected"):
        ids = [p["prompt_ids"] + p[f"{side}_ids"] for p in pairs]
        labels = [[-100] * len(p["prompt_ids"]) + p[f"{side}_ids"] for p in pairs]
        batch[f"{side}_input_ids"] = pad(ids, 0)
        batch[f"{side}_attention_mask"] = pad([[1] * len(i) for i in ids], 0)
        batch[f"{side}_labels"] = pad(labels, -100)
    return batch


class Case:
    """A trainer plus how to compute its loss and metrics on the fixed batch."""

    def __init__(self, trainer, loss_fn):
        self.trainer, self.loss_fn = trainer, loss_fn

    def evaluate(self):
        model = self.trainer.model
        model.train()
        model.zero_grad(set_to_none=True)
        loss, metrics = self.loss_fn()
        loss.backward()
        norm, grads = lora_gradients(model)
        return loss.item(), metrics, norm, grads

    def curve(self):
        model = self.trainer.model
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=CURVE_LR, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1,
                                      foreach=False, fused=False)
        steps = []
        for _ in range(CURVE_STEPS):
            model.train()
            loss, metrics = self.loss_fn()
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, 1.0).item()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            steps.append(dict(loss=loss.item(), grad_norm=grad_norm, metrics=metrics))
        return steps


def dpo_case(out, pairs, loss_types, weights, beta, label_smoothing, reference_free=False):
    args = common_args(trl.DPOConfig, out, beta=beta, loss_type=loss_types, loss_weights=weights,
                       label_smoothing=label_smoothing)
    trainer = trl.DPOTrainer(model=causal_model(), args=args, train_dataset=text_dataset("dpo"),
                             processing_class=tokenizer(), peft_config=LoraConfig(task_type="CAUSAL_LM", **LORA))
    reseed_adapter(trainer.model)

    def loss_fn():
        inputs = trainer.data_collator([dict(p) for p in pairs])
        if reference_free:  # TRL 0.2x's reference_free: the reference log-probs are 0
            trainer.precompute_ref_logps = True
            inputs["ref_chosen_logps"] = torch.zeros(len(pairs))
            inputs["ref_rejected_logps"] = torch.zeros(len(pairs))
        loss = trainer._compute_loss(trainer.model, inputs, False)
        return loss, drain_metrics(trainer)
    return Case(trainer, loss_fn)


def kto_case(out, rows, beta=0.1, desirable_weight=1.0, undesirable_weight=1.0):
    args = common_args(trl.KTOConfig, out, beta=beta, desirable_weight=desirable_weight,
                       undesirable_weight=undesirable_weight)
    args.per_device_train_batch_size = KTO_ROWS
    trainer = trl.KTOTrainer(model=causal_model(), args=args, train_dataset=text_dataset("kto"),
                             processing_class=tokenizer(), peft_config=LoraConfig(task_type="CAUSAL_LM", **LORA))
    reseed_adapter(trainer.model)
    # TRL's mismatched pairs for the KL estimate: row i gets the completion of row i - 1 (cyclic) of its batch.
    completions = [r["completion_ids"] for r in rows]
    examples = [dict(prompt_ids=r["prompt_ids"], completion_ids=r["completion_ids"], label=r["label"],
                     KL_completion_ids=c) for r, c in zip(rows, [completions[-1]] + completions[:-1])]

    def loss_fn():
        inputs = trainer.data_collator([dict(e) for e in examples])
        loss = trainer._compute_loss(trainer.model, inputs, False)
        return loss, drain_metrics(trainer)
    return Case(trainer, loss_fn)


def cpo_case(out, pairs, trainer_class, config_class, **config):
    args = common_args(config_class, out, max_length=64, **config)
    trainer = trainer_class(model=causal_model(), args=args, train_dataset=text_dataset("dpo"),
                            processing_class=tokenizer(), peft_config=LoraConfig(task_type="CAUSAL_LM", **LORA))
    reseed_adapter(trainer.model)

    def loss_fn():
        loss, metrics = trainer.get_batch_loss_metrics(trainer.model, pair_batch(pairs))
        # logits/* average over every position of the padded batch (prompt and padding included): not comparable
        # across padding schemes, left out.
        return loss, {k: float(v) for k, v in metrics.items() if not k.startswith("logits/")}
    return Case(trainer, loss_fn)


def rm_case(out, pairs, center=None):
    args = common_args(trl.RewardConfig, out, center_rewards_coefficient=center)
    tok = tokenizer()
    model = AutoModelForSequenceClassification.from_pretrained(MODEL_DIR, num_labels=1, dtype=torch.float32,
                                                               attn_implementation="eager")
    model.config.pad_token_id = tok.pad_token_id
    trainer = trl.RewardTrainer(model=model, args=args, train_dataset=text_dataset("rm"), processing_class=tok,
                                peft_config=LoraConfig(task_type="SEQ_CLS", **LORA))
    reseed_adapter(trainer.model)
    sequences = [p["prompt_ids"] + p["chosen_ids"] for p in pairs] + [p["prompt_ids"] + p["rejected_ids"] for p in pairs]

    def loss_fn():
        inputs = dict(input_ids=pad(sequences, tok.pad_token_id), attention_mask=pad([[1] * len(s) for s in sequences], 0))
        loss = trainer.compute_loss(trainer.model, inputs)
        return loss, drain_metrics(trainer)
    return Case(trainer, loss_fn)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/preference"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    pairs, kto = make_rows()
    with open(os.path.join(out, "rows.json"), "w") as f:
        json.dump(dict(pairs=pairs, kto=kto), f, indent=1)

    cases, gradients, curves = {}, {}, {}

    def record(name, case, settings):
        loss, metrics, norm, grads = case.evaluate()
        cases[name] = dict(settings=settings, loss=loss, metrics=metrics, grad_norm=norm)
        for key, value in grads.items():
            gradients[f"{name}/{key}"] = value.contiguous()
        print(f"{name:>16}: loss {loss:.6f} grad_norm {norm:.6f}")

    first = None
    for name, loss_types, weights, beta, smoothing in DPO_CASES:
        case = dpo_case(out, pairs, loss_types, weights, beta, smoothing)
        record(f"dpo/{name}", case, dict(rlhf_type="dpo", trl_loss_type=loss_types, loss_weights=weights, beta=beta,
                                         label_smoothing=smoothing))
        first = first or case
    first.trainer.model.save_pretrained(os.path.join(out, "initial_adapter"))
    record("dpo/reference_free", dpo_case(out, pairs, ["sigmoid"], None, 0.1, 0.0, reference_free=True),
           dict(rlhf_type="dpo", trl_loss_type=["sigmoid"], beta=0.1, reference_free=True))
    record("kto", kto_case(out, kto), dict(rlhf_type="kto", beta=0.1, desirable_weight=1.0, undesirable_weight=1.0))
    record("kto/weighted", kto_case(out, kto, desirable_weight=1.5, undesirable_weight=0.7),
           dict(rlhf_type="kto", beta=0.1, desirable_weight=1.5, undesirable_weight=0.7))
    cpo = dict(trainer_class=CPOTrainer, config_class=CPOConfig)
    orpo = dict(trainer_class=ORPOTrainer, config_class=ORPOConfig)
    record("cpo", cpo_case(out, pairs, beta=0.1, cpo_alpha=1.0, **cpo), dict(rlhf_type="cpo", beta=0.1, cpo_alpha=1.0))
    record("simpo", cpo_case(out, pairs, loss_type="simpo", beta=2.0, simpo_gamma=1.0, cpo_alpha=0.0, **cpo),
           dict(rlhf_type="simpo", beta=2.0, simpo_gamma=1.0, cpo_alpha=0.0))
    record("simpo/cpo_alpha", cpo_case(out, pairs, loss_type="simpo", beta=2.0, simpo_gamma=0.5, cpo_alpha=0.3, **cpo),
           dict(rlhf_type="simpo", beta=2.0, simpo_gamma=0.5, cpo_alpha=0.3))
    record("orpo", cpo_case(out, pairs, beta=0.1, **orpo), dict(rlhf_type="orpo", beta=0.1))
    rm = rm_case(out, pairs)
    record("rm", rm, dict(rlhf_type="rm"))
    rm.trainer.model.save_pretrained(os.path.join(out, "rm_initial_adapter"))
    record("rm/centered", rm_case(out, pairs, center=0.01), dict(rlhf_type="rm", center_rewards_coefficient=0.01))

    curve_cases = {
        "dpo": dpo_case(out, pairs, ["sigmoid"], None, 0.1, 0.0),
        "kto": kto_case(out, kto),
        "cpo": cpo_case(out, pairs, beta=0.1, cpo_alpha=1.0, **cpo),
        "simpo": cpo_case(out, pairs, loss_type="simpo", beta=2.0, simpo_gamma=1.0, cpo_alpha=0.0, **cpo),
        "orpo": cpo_case(out, pairs, beta=0.1, **orpo),
        "rm": rm_case(out, pairs),
    }
    for name, case in curve_cases.items():
        curves[name] = case.curve()
        print(f"curve {name}: {curves[name][0]['loss']:.5f} -> {curves[name][-1]['loss']:.5f}")

    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    with open(os.path.join(out, "curves.json"), "w") as f:
        json.dump(dict(steps=CURVE_STEPS, learning_rate=CURVE_LR, betas=[0.9, 0.95], eps=1e-8, weight_decay=0.1,
                       max_grad_norm=1.0, lr_scheduler_type="constant", curves=curves), f, indent=1)
    save_file(gradients, os.path.join(out, "gradients.safetensors"))
    for folder in ("initial_adapter", "rm_initial_adapter"):
        readme = os.path.join(out, folder, "README.md")
        if os.path.exists(readme):
            os.remove(readme)
    with open(__file__, "rb") as f:
        script_hash = hashlib.sha256(f.read()).hexdigest()
    manifest = dict(script="scripts/golden/make_preference_goldens.py", script_sha256=script_hash, seed=SEED,
                    model=MODEL_DIR, lora=LORA, init_std=INIT_STD, gradient_tensors=GRADIENT_TENSORS,
                    python=platform.python_version(), torch=torch.__version__, transformers=transformers.__version__,
                    peft=peft.__version__, trl=trl.__version__, device="cpu", dtype="float32", attention="eager")
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    import shutil
    shutil.rmtree(os.path.join(out, "tmp"), ignore_errors=True)


if __name__ == "__main__":
    main()
