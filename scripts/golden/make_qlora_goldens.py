"""Goldens for QLoRA: PEFT LoRA over a bitsandbytes NF4 (double-quantized) base, on the tiny golden decoders.

For each family in FAMILIES this writes, under OUT/<family>/:
  quant_state.safetensors    bitsandbytes' state of each linear weight W: W.packed (u8 codes, two a byte), W.absmax
                             (u8 nested codes), W.nested_absmax (f32), W.offset (f32 [1], torch's mean of the absmax)
  dequantized.safetensors    every linear layer's weight as bitsandbytes quantized it (BitsAndBytesConfig
                             load_in_4bit, nf4, double quant, compute dtype float32) and decodes it
                             (bitsandbytes.functional.dequantize_4bit), f32, by HF name
  initial_adapter/           PEFT's freshly initialised adapter on that base (LoraConfig as make_lora_goldens.LORA)
  final_adapter/             the same after LORA_STEPS steps of make_lora_goldens.train (HF Trainer's step)
  qlora_logits.safetensors   logits_base, logits_initial, logits_final f32 [2, T, V] of the golden batch
  qlora_trajectory.json      per step: loss, grad_norm, learning_rate, logged_learning_rate (as lora_trajectory.json)
and OUT/manifest.json (library versions, the script's sha256).

Runs on the GPU machine (CUDA, TF32 off, deterministic algorithms, float32 compute). Not on bitsandbytes' CPU
backend: in bitsandbytes 0.50.2 its quantize_4bit blocks a weight whose row length is not a multiple of 64 wrongly
(llama's down_proj [64, 160] decodes with a max error of 0.150 against 0.036 for blocks of 64 consecutive values,
which is what the CUDA kernel and the torch reference do). Usage, from the repository root:
  CUBLAS_WORKSPACE_CONFIG=:4096:8 python3 scripts/golden/make_qlora_goldens.py [OUT_DIR]   (default Tests/Fixtures/qlora)
"""
import hashlib
import json
import os
import platform
import sys

import bitsandbytes
import bitsandbytes.functional as bnbf
import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, BitsAndBytesConfig

sys.path.insert(0, os.path.dirname(__file__))
import make_lora_goldens as lora  # noqa: E402

FAMILIES = ["qwen2", "llama"]
if not torch.cuda.is_available():
    sys.exit("make_qlora_goldens.py needs CUDA (bitsandbytes' CPU 4-bit quantizer is wrong for rows that are not a "
             "multiple of the block size; see the docstring)")
DEVICE = "cuda"
QUANT = dict(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
             bnb_4bit_compute_dtype=torch.float32)


def load_quantized(family):
    model = AutoModelForCausalLM.from_pretrained(os.path.join(lora.GOLDEN_DIR, family), dtype=torch.float32,
                                                attn_implementation="eager",
                                                quantization_config=BitsAndBytesConfig(**QUANT),
                                                device_map={"": 0 if DEVICE == "cuda" else "cpu"})
    for module in model.modules():
        if isinstance(module, bitsandbytes.nn.Linear4bit):
            # On the CPU, evaluation would repack the weight for an AVX-512 bf16 kernel (which needs in_features a
            # multiple of the block size); keep the reference dequantize-and-matmul path.
            module.support_avx512bf16_for_cpu = False
    return model


def dequantized_weights(model):
    weights, states = {}, {}
    for name, module in model.named_modules():
        if isinstance(module, bitsandbytes.nn.Linear4bit):
            state = module.weight.quant_state
            w = bnbf.dequantize_4bit(module.weight.data, state).float().cpu().contiguous()
            key = name + ".weight"
            weights[key] = w
            states[key + ".packed"] = module.weight.data.flatten().cpu().contiguous()
            states[key + ".absmax"] = state.absmax.cpu().contiguous()
            states[key + ".nested_absmax"] = state.state2.absmax.float().cpu().contiguous()
            states[key + ".offset"] = state.offset.float().reshape(1).cpu().contiguous()
    return weights, states


def make_qlora(family, out):
    model = load_quantized(family)
    input_ids, labels = lora.golden_batch(family)
    input_ids, labels = input_ids.to(DEVICE), labels.to(DEVICE)
    weights, states = dequantized_weights(model)
    save_file(weights, os.path.join(out, "dequantized.safetensors"), metadata={"family": family})
    save_file(states, os.path.join(out, "quant_state.safetensors"), metadata={"family": family})
    model.eval()
    with torch.no_grad():
        logits_base = model(input_ids=input_ids).logits.float().cpu().contiguous()
    torch.manual_seed(lora.SEED)
    model = get_peft_model(model, LoraConfig(**lora.LORA))
    model.eval()
    with torch.no_grad():
        logits_initial = model(input_ids=input_ids).logits.float().cpu().contiguous()
    lora.save_adapter(model, os.path.join(out, "initial_adapter"))
    records, facts = lora.train(model, lora.LORA_LR, lora.LORA_STEPS, input_ids, labels)
    model.eval()
    with torch.no_grad():
        logits_final = model(input_ids=input_ids).logits.float().cpu().contiguous()
    lora.save_adapter(model, os.path.join(out, "final_adapter"))
    save_file({"logits_base": logits_base, "logits_initial": logits_initial, "logits_final": logits_final},
              os.path.join(out, "qlora_logits.safetensors"), metadata={"family": family})
    lora.write_json(os.path.join(out, "qlora_trajectory.json"), dict(steps=records, **facts))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/qlora"
    torch.use_deterministic_algorithms(True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__,
          "bitsandbytes", bitsandbytes.__version__)
    for family in FAMILIES:
        out = os.path.join(out_dir, family)
        os.makedirs(out, exist_ok=True)
        print(f"{family}: QLoRA")
        make_qlora(family, out)
    with open(__file__, "rb") as f:
        script_hash = hashlib.sha256(f.read()).hexdigest()
    manifest = dict(script="scripts/golden/make_qlora_goldens.py", script_sha256=script_hash, seed=lora.SEED,
                    families=FAMILIES, lora=lora.LORA, quantization={k: str(v) for k, v in QUANT.items()},
                    lora_steps=lora.LORA_STEPS, lora_lr=lora.LORA_LR, python=platform.python_version(),
                    torch=torch.__version__, transformers=transformers.__version__, peft=peft.__version__,
                    bitsandbytes=bitsandbytes.__version__,
                    device=torch.cuda.get_device_name(0) if DEVICE == "cuda" else "cpu", dtype="float32",
                    attention="eager")
    lora.write_json(os.path.join(out_dir, "manifest.json"), manifest)


if __name__ == "__main__":
    main()
