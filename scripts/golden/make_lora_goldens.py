"""Goldens for LoRA and full fine-tuning: PEFT LoRA on the tiny golden decoders, trained with torch AdamW the way
HF Trainer (transformers 5) trains it.

For each family in FAMILIES this writes, under OUT/<family>/:
  initial_adapter/           PEFT's save_pretrained of the freshly initialised adapter (adapter_config.json,
                             adapter_model.safetensors): LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                             target_modules="all-linear", task_type="CAUSAL_LM"), A drawn after torch.manual_seed(SEED)
  final_adapter/             the same after LORA_STEPS optimizer steps
  lora_logits.safetensors    logits_initial, logits_final f32 [2, T, V]: the golden batch through the base model
                             with the initial / final adapter, unmerged
  lora_trajectory.json       per step: loss, grad_norm, learning_rate (the rate the update used) and
                             logged_learning_rate (what Trainer logs: read after scheduler.step()); plus
                             num_items_in_batch and the decay / no-decay parameter names
  full_trajectory.json       the same for FULL_STEPS steps of full fine-tuning (every parameter, lr FULL_LR)
  full_final.safetensors     every parameter after those steps, by HF name (a tied lm_head appears once)
and OUT/manifest.json (library versions, hyperparameters, this script's sha256).

The training step, as HF Trainer takes it with per_device_train_batch_size 1, gradient_accumulation_steps 2,
max_grad_norm 1.0, lr_scheduler_type cosine, warmup_steps 2, adam_beta2 0.95, weight_decay 0.1:
  - Data: golden.safetensors' input_ids / labels [2, T] from Tests/Fixtures/golden/<family> (labels -100 where no
    loss is taken). Every optimizer step runs micro-batch 0 = row 0, then micro-batch 1 = row 1: the same batch
    every step, no shuffling.
  - Loss normalisation: transformers 5 passes `num_items_in_batch` = the scored targets of the whole accumulated
    batch, counted after the causal shift (labels[..., 1:] != -100; transformers PR #46204). Each micro-batch's loss
    is sum(token cross-entropy of that micro-batch) / num_items_in_batch and is backpropagated as it is (Trainer
    does not divide by the accumulation steps when the model takes num_items_in_batch). The accumulated gradient is
    the gradient of the mean token loss over the whole accumulated batch; the logged loss is the sum of the
    micro-batch losses, i.e. that mean. The script checks the model's loss against this formula at every micro-batch.
  - Clipping: torch.nn.utils.clip_grad_norm_(trainable parameters, 1.0); grad_norm is its return value (before
    clipping).
  - Optimizer: torch.optim.AdamW(lr, betas=(0.9, 0.95), eps=1e-8, foreach=False, fused=False) (the single-tensor
    update) over Trainer's two parameter groups: weight_decay 0.1, and 0 for names matching bias / layernorm /
    rmsnorm / a `norm` component / a `_norm` component (Trainer.get_decay_parameter_names, cross-checked below).
  - Schedule: transformers.get_scheduler("cosine", num_warmup_steps=2, num_training_steps=steps); scheduler.step()
    follows every optimizer.step(), so update k (0-based) uses lr * lambda(k) and the first update has rate 0.

Runs on CPU in float32 with eager attention, deterministic algorithms. Pinned: torch 2.11.0, transformers 5.17.0,
peft 0.21.0 (the GPU machine's Python). Usage, from the repository root:
  python3 scripts/golden/make_lora_goldens.py [OUT_DIR]        (default Tests/Fixtures/lora)
"""
import hashlib
import json
import os
import platform
import re
import sys

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, get_scheduler

GOLDEN_DIR = "Tests/Fixtures/golden"
FAMILIES = ["qwen2", "llama"]
SEED = 1234
LORA = dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
BETAS, EPS, WEIGHT_DECAY = (0.9, 0.95), 1e-8, 0.1
WARMUP_STEPS, ACCUMULATION, MAX_GRAD_NORM = 2, 2, 1.0
LORA_STEPS, LORA_LR = 8, 1e-3
FULL_STEPS, FULL_LR = 4, 1e-4
# transformers 5 Trainer.get_decay_parameter_names: parameter names (lowercased) matching any of these get no decay.
NO_DECAY_PATTERNS = [r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)"]


def load_base(family):
    return AutoModelForCausalLM.from_pretrained(os.path.join(GOLDEN_DIR, family), dtype=torch.float32,
                                                attn_implementation="eager")


def golden_batch(family):
    tensors = load_file(os.path.join(GOLDEN_DIR, family, "golden.safetensors"))
    return tensors["input_ids"].long(), tensors["labels"].long()


def micro_batches(input_ids, labels):
    rows = input_ids.shape[0]
    assert rows % ACCUMULATION == 0, f"{rows} rows do not split into {ACCUMULATION} micro-batches"
    size = rows // ACCUMULATION
    return [(input_ids[i:i + size], labels[i:i + size]) for i in range(0, rows, size)]


def decay_parameter_names(model):
    """Names of the trainable parameters that get weight decay, by Trainer's rule."""
    patterns = [re.compile(p) for p in NO_DECAY_PATTERNS]
    in_layer_norm = {f"{module_name}.{name}" if module_name else name
                     for module_name, module in model.named_modules() if isinstance(module, torch.nn.LayerNorm)
                     for name, _ in module.named_parameters(recurse=False)}
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    names = {name for name in trainable
             if name not in in_layer_norm and not any(p.search(name.lower()) for p in patterns)}
    try:  # The installed Trainer's own answer, when its method can run without a Trainer instance.
        theirs = set(transformers.Trainer.get_decay_parameter_names(None, model)) & set(trainable)
    except Exception as error:  # noqa: BLE001 - only a cross-check
        print(f"  (no cross-check with Trainer.get_decay_parameter_names: {type(error).__name__}: {error})")
    else:
        if theirs != names:
            sys.exit(f"decay rule disagrees with transformers: only ours {sorted(names - theirs)}, "
                     f"only theirs {sorted(theirs - names)}")
    return names


def causal_lm_loss(logits, labels, num_items):
    """The normalisation documented above, written out: sum of shifted token cross-entropies / num_items."""
    vocab = logits.shape[-1]
    total = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, vocab).float(), labels[:, 1:].reshape(-1),
                                              ignore_index=-100, reduction="sum")
    return total / num_items


def train(model, lr, steps, input_ids, labels):
    """Trainer's loop for `steps` optimizer steps; returns the per-step log and facts about the run."""
    decay = decay_parameter_names(model)
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    groups = [{"params": [p for name, p in named if name in decay], "weight_decay": WEIGHT_DECAY},
              {"params": [p for name, p in named if name not in decay], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=BETAS, eps=EPS, foreach=False, fused=False)
    scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=WARMUP_STEPS, num_training_steps=steps)
    micro = micro_batches(input_ids, labels)
    num_items = int(sum(int((batch_labels[..., 1:] != -100).sum()) for _, batch_labels in micro))
    parameters = [p for _, p in named]
    model.train()
    records = []
    for step in range(steps):
        learning_rate = optimizer.param_groups[0]["lr"]
        total = 0.0
        for batch_ids, batch_labels in micro:
            output = model(input_ids=batch_ids, labels=batch_labels, num_items_in_batch=num_items)
            expected = causal_lm_loss(output.logits.detach(), batch_labels, num_items).item()
            if abs(output.loss.item() - expected) > 1e-5 * abs(expected):
                sys.exit(f"the model's loss {output.loss.item()} is not sum(CE) / num_items_in_batch = {expected}")
            output.loss.backward()
            total += output.loss.item()
        grad_norm = torch.nn.utils.clip_grad_norm_(parameters, MAX_GRAD_NORM).item()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        records.append(dict(step=step + 1, loss=total, grad_norm=grad_norm, learning_rate=learning_rate,
                            logged_learning_rate=scheduler.get_last_lr()[0]))
        print(f"  step {step + 1}: loss {total:.6f} grad_norm {grad_norm:.6f} lr {learning_rate:.3e}")
    facts = dict(num_items_in_batch=num_items, micro_batch_rows=[[r] for r in range(input_ids.shape[0])],
                 decay_parameters=sorted(decay), no_decay_parameters=sorted(n for n, _ in named if n not in decay))
    return records, facts


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2)


def save_adapter(model, path):
    model.save_pretrained(path, safe_serialization=True)
    readme = os.path.join(path, "README.md")  # PEFT's model card: not a fixture
    if os.path.exists(readme):
        os.remove(readme)


def make_lora(family, out):
    torch.manual_seed(SEED)
    model = get_peft_model(load_base(family), LoraConfig(**LORA))
    input_ids, labels = golden_batch(family)
    model.eval()
    with torch.no_grad():
        logits_initial = model(input_ids=input_ids).logits.float().contiguous()
    save_adapter(model, os.path.join(out, "initial_adapter"))
    records, facts = train(model, LORA_LR, LORA_STEPS, input_ids, labels)
    model.eval()
    with torch.no_grad():
        logits_final = model(input_ids=input_ids).logits.float().contiguous()
    save_adapter(model, os.path.join(out, "final_adapter"))
    save_file({"logits_initial": logits_initial, "logits_final": logits_final},
              os.path.join(out, "lora_logits.safetensors"), metadata={"family": family})
    write_json(os.path.join(out, "lora_trajectory.json"), dict(steps=records, **facts))


def make_full(family, out):
    torch.manual_seed(SEED)
    model = load_base(family)
    input_ids, labels = golden_batch(family)
    records, facts = train(model, FULL_LR, FULL_STEPS, input_ids, labels)
    save_file({name: p.detach().float().contiguous() for name, p in model.named_parameters()},
              os.path.join(out, "full_final.safetensors"), metadata={"family": family})
    write_json(os.path.join(out, "full_trajectory.json"), dict(steps=records, **facts))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/lora"
    torch.use_deterministic_algorithms(True)
    print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)
    for family in FAMILIES:
        out = os.path.join(out_dir, family)
        os.makedirs(out, exist_ok=True)
        print(f"{family}: LoRA")
        make_lora(family, out)
        print(f"{family}: full fine-tuning")
        make_full(family, out)
    with open(__file__, "rb") as f:
        script_hash = hashlib.sha256(f.read()).hexdigest()
    manifest = dict(script="scripts/golden/make_lora_goldens.py", script_sha256=script_hash, seed=SEED,
                    families=FAMILIES, lora=LORA, betas=list(BETAS), eps=EPS, weight_decay=WEIGHT_DECAY,
                    warmup_steps=WARMUP_STEPS, gradient_accumulation_steps=ACCUMULATION, max_grad_norm=MAX_GRAD_NORM,
                    lr_scheduler_type="cosine", lora_steps=LORA_STEPS, lora_lr=LORA_LR, full_steps=FULL_STEPS,
                    full_lr=FULL_LR, python=platform.python_version(), torch=torch.__version__,
                    transformers=transformers.__version__, peft=peft.__version__, device="cpu", dtype="float32",
                    attention="eager")
    write_json(os.path.join(out_dir, "manifest.json"), manifest)


if __name__ == "__main__":
    main()
