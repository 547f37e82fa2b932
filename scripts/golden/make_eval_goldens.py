#!/usr/bin/env python3
"""Goldens for `swift-tune eval` (Tests/Fixtures/eval/goldens.json), from the libraries evaluation tools use:

- loglikelihood: log p(continuation | context) summed over the continuation's tokens, from HF transformers on the
  tiny Qwen2 (Tests/Fixtures/golden/qwen2), for multiple-choice requests laid out as swift-tune lays them: the
  ChatML generation prompt (system "Be brief."), then "ANSWER:", then " A" / " B" / ..., each part tokenized on its
  own (lm-evaluation-harness style). The token ids are recorded so the Swift test checks its own first.
- overlap: sentence BLEU-4 from NLTK (`sentence_bleu`, weights 0.25 x 4, `SmoothingFunction().method1`) and ROUGE-L
  F1 from Google's rouge-score (`RougeScorer(["rougeL"])` with the same words), over the words swift-tune's
  `TextOverlap.tokens` splits (lowercase; runs of letters/digits; each CJK character alone).

Versions used: torch 2.15, transformers 5.25, nltk 3.10.4, rouge-score 0.1.2 (CPU).
    python3 scripts/golden/make_eval_goldens.py
"""
import json
import pathlib
import unicodedata

import torch
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from rouge_score import rouge_scorer
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "Tests/Fixtures/golden/qwen2"
OUT = ROOT / "Tests/Fixtures/eval/goldens.json"

SYSTEM = "Be brief."
REQUESTS = [
    {"question": "2+2=?\nA) 3\nB) 4", "letters": ["A", "B"]},
    {"question": "Sky?\nA) red\nB) blue\nC) green", "letters": ["A", "B", "C"]},
    {"question": "Pick one.\nA) x\nB) y\nC) z\nD) w", "letters": ["A", "B", "C", "D"]},
]
PAIRS = [
    ("The capital of France is Paris.", "The capital of France is Paris."),
    ("Paris is the capital.", "The capital of France is Paris."),
    ("Rome", "Rome."),
    ("I do not know", "The capital of France is Paris."),
    ("the cat sat on the mat", "the cat is on the mat"),
    ("北京是中国的首都。", "中国的首都是北京。"),
    ("a b c d e f", "a b c d e f g h i j"),
]


def is_cjk(ch):
    v = ord(ch)
    return (0x3400 <= v <= 0x4DBF or 0x4E00 <= v <= 0x9FFF or 0xF900 <= v <= 0xFAFF or 0x20000 <= v <= 0x2FA1F
            or 0x3040 <= v <= 0x30FF or 0xAC00 <= v <= 0xD7AF)


def words(text):
    out, cur = [], ""
    for ch in text.lower():
        if is_cjk(ch):
            if cur:
                out.append(cur)
                cur = ""
            out.append(ch)
        elif ch.isalpha() or unicodedata.numeric(ch, None) is not None:
            cur += ch
        elif cur:
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


class Words:
    def tokenize(self, text):
        return words(text)


def main():
    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    model = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32).eval()
    loglikelihoods = []
    for request in REQUESTS:
        prompt = (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{request['question']}<|im_end|>\n"
                  "<|im_start|>assistant\n")
        context = tokenizer.encode(prompt, add_special_tokens=False) + tokenizer.encode("ANSWER:", add_special_tokens=False)
        scores, continuations = [], []
        for letter in request["letters"]:
            continuation = tokenizer.encode(" " + letter, add_special_tokens=False)
            ids = torch.tensor([context + continuation])
            with torch.no_grad():
                logits = model(ids).logits[0].double()
            logp = torch.log_softmax(logits, dim=-1)
            total = sum(logp[len(context) + i - 1, t].item() for i, t in enumerate(continuation))
            scores.append(total)
            continuations.append(continuation)
        loglikelihoods.append({"system": SYSTEM, "question": request["question"], "letters": request["letters"],
                               "context_ids": context, "continuation_ids": continuations, "loglikelihoods": scores})
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=Words())
    overlap = []
    for answer, reference in PAIRS:
        a, r = words(answer), words(reference)
        bleu = sentence_bleu([r], a, weights=(0.25, 0.25, 0.25, 0.25), smoothing_function=SmoothingFunction().method1)
        rouge = scorer.score(reference, answer)["rougeL"].fmeasure
        overlap.append({"answer": answer, "reference": reference, "answer_words": a, "reference_words": r,
                        "bleu4": float(bleu), "rouge_l_f": float(rouge)})
    OUT.write_text(json.dumps({"loglikelihood": loglikelihoods, "overlap": overlap}, indent=1, ensure_ascii=False) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
