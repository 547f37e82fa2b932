#!/usr/bin/env python3
"""llama.cpp's option log-likelihoods for `swift-tune eval`'s multiple-choice scoring on Qwen2.5-Coder-0.5B-Instruct
(the tests' GGUF, .cache/models via scripts/fetch_test_models.sh) -> Tests/Fixtures/eval/qwen_coder_mcq_llama_cpp.json.

Each row of Tests/Fixtures/eval/mmlu/abstract_algebra_test.csv and custom/tiny_mcq.jsonl is asked with EvalScope's
multiple-choice template (as `EvalPrompt.choiceTemplate` renders it) in Qwen2.5's chat template with its default
system prompt; the context is that prompt then "ANSWER:", each option " A", " B", … tokenized on its own by
llama.cpp's tokenizer; log p(option | context) is summed from llama.cpp's logits (log-softmax in float64).

    python3 scripts/golden/make_eval_llama_cpp_goldens.py      # llama-cpp-python 0.3.36 (scripts/setup_llama_cpp.sh)
"""
import csv
import json
import pathlib

import numpy as np
from llama_cpp import Llama

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / ".cache/models/Qwen2.5-Coder-0.5B-Instruct.gguf"
OUT = ROOT / "Tests/Fixtures/eval/qwen_coder_mcq_llama_cpp.json"
SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
TEMPLATE = ("Answer the following multiple choice question. The entire content of your response should be of the "
            "following format: 'ANSWER: $LETTER' (without quotes) where LETTER is one of {letters}.\n\n{question}\n\n{choices}")


def rows():
    with open(ROOT / "Tests/Fixtures/eval/mmlu/abstract_algebra_test.csv") as f:
        for row in csv.DictReader(f):
            yield row["question"], [row[k] for k in "ABCD"]
    for line in open(ROOT / "Tests/Fixtures/eval/custom/tiny_mcq.jsonl"):
        row = json.loads(line)
        yield row["question"], [row[k] for k in "ABCDEFG" if k in row]


def main():
    llm = Llama(model_path=str(MODEL), n_ctx=1024, n_threads=2, logits_all=True, verbose=False)
    cases = []
    for question, choices in rows():
        letters = [chr(65 + i) for i in range(len(choices))]
        text = TEMPLATE.format(letters=",".join(letters), question=question,
                               choices="\n".join(f"{l}) {c}" for l, c in zip(letters, choices)))
        prompt = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"
        context = llm.tokenize(prompt.encode(), add_bos=False, special=True) + llm.tokenize(b"ANSWER:", add_bos=False, special=False)
        scores, continuations = [], []
        for letter in letters:
            continuation = llm.tokenize((" " + letter).encode(), add_bos=False, special=False)
            ids = context + continuation
            llm.reset()
            llm.eval(ids)
            logits = np.array(llm.scores[: len(ids)], dtype=np.float64)
            logp = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
            scores.append(float(sum(logp[len(context) + i - 1, t] for i, t in enumerate(continuation))))
            continuations.append(continuation)
        cases.append({"user": text, "context_ids": context, "continuation_ids": continuations, "loglikelihoods": scores})
        print(question[:40], [round(s, 4) for s in scores])
    OUT.write_text(json.dumps({"model": MODEL.name, "system": SYSTEM, "cases": cases}) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
