"""Goldens for tokenizers built from GGUF `llama` (SentencePiece) vocabularies, with SentencePiece as the oracle.

Trains a small SentencePiece BPE model on the Latin-script lines of the committed parity corpus
(Tests/Fixtures/tokenizers/corpus.jsonl; identity normalization, a dummy prefix, byte fallback, two user-defined
symbols), so that the other scripts and emoji take the byte fallback, then writes Tests/Fixtures/gguf/:
  spm_tokenizer.gguf   a tensor-less GGUF with tokenizer.ggml.* as llama.cpp's converter writes them for a
                       SentencePiece model (model "llama", tokens, scores, token_type, bos/eos/unk ids,
                       add_bos_token, add_space_prefix) and a ChatML chat_template
  spm_tokenizer.ids    per corpus line, the ids (no BOS) that llama.cpp's SPM tokenization gives: the text split
                       at control and user-defined tokens (leftmost, longest), each piece of text encoded by
                       SentencePiece (which prepends the dummy "▁" to each piece, as llama.cpp does)
  spm_tokenizer.json   {"decode_skip_special": {line: text}}: SentencePiece's decoding of those ids where it is
                       not the line itself
Pinned: sentencepiece 0.2.1, gguf 0.19.0. Deterministic (one training thread).
Usage: python3 scripts/golden/make_gguf_tokenizer_goldens.py
"""
import io
import json
import os
import sys

import sentencepiece as spm
from gguf import GGUFWriter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
CORPUS = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers", "corpus.jsonl")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "gguf")
USER_DEFINED = ["<|im_start|>", "<|im_end|>"]
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
          "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
# llama.cpp's llama_token_type
NORMAL, UNKNOWN, CONTROL, USER_DEFINED_TYPE, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def train(texts):
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=model, model_type="bpe", vocab_size=1000,
        character_coverage=0.9995, byte_fallback=True, normalization_rule_name="identity", add_dummy_prefix=True,
        remove_extra_whitespaces=False, user_defined_symbols=USER_DEFINED, num_threads=1, max_sentence_length=100000,
        minloglevel=2)
    return spm.SentencePieceProcessor(model_proto=model.getvalue())


def token_type(sp, i):
    if sp.IsUnknown(i):
        return UNKNOWN
    if sp.IsControl(i):
        return CONTROL
    if sp.IsUnused(i):
        return UNUSED
    if sp.IsByte(i):
        return BYTE
    if sp.IdToPiece(i) in USER_DEFINED:
        return USER_DEFINED_TYPE
    return NORMAL


def encode_like_llama_cpp(sp, text, specials):
    """Splits at special tokens (leftmost, then longest), encodes each piece of text on its own."""
    ids, start, i = [], 0, 0
    while i < len(text):
        match = max((s for s in specials if text.startswith(s, i)), key=len, default=None)
        if match is None:
            i += 1
            continue
        if start < i:
            ids += sp.encode(text[start:i])
        ids.append(specials[match])
        i = start = i + len(match)
    if start < len(text):
        ids += sp.encode(text[start:])
    return ids


def main():
    with open(CORPUS, "rb") as f:
        texts = [json.loads(line) for line in f.read().split(b"\n") if line]
    # Trained on the Latin-script lines only, so CJK, emoji and other scripts take the byte fallback.
    sp = train([t for t in texts if all(ord(c) < 0x250 for c in t)])
    n = sp.GetPieceSize()
    tokens = [sp.IdToPiece(i) for i in range(n)]
    types = [token_type(sp, i) for i in range(n)]
    specials = {tokens[i]: i for i in range(n) if types[i] in (CONTROL, USER_DEFINED_TYPE)}

    os.makedirs(OUT, exist_ok=True)
    writer = GGUFWriter(os.path.join(OUT, "spm_tokenizer.gguf"), "llama")
    writer.add_name("SentencePiece BPE test vocabulary")
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores([sp.GetScore(i) for i in range(n)])
    writer.add_token_types(types)
    writer.add_bos_token_id(sp.bos_id())
    writer.add_eos_token_id(sp.eos_id())
    writer.add_unk_token_id(sp.unk_id())
    writer.add_add_bos_token(True)
    writer.add_add_space_prefix(True)
    writer.add_chat_template(CHATML)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    decoded = {}
    with open(os.path.join(OUT, "spm_tokenizer.ids"), "w") as f:
        for index, text in enumerate(texts):
            ids = encode_like_llama_cpp(sp, text, specials)
            f.write(" ".join(map(str, ids)) + "\n")
            back = sp.decode(ids)
            if back != text:
                decoded[str(index)] = back
    with open(os.path.join(OUT, "spm_tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({"sentencepiece": spm.__version__, "vocab_size": n, "bos": sp.bos_id(),
                   "decode_skip_special": decoded}, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    if spm.__version__ != "0.2.1":
        print(f"warning: pinned sentencepiece 0.2.1, running {spm.__version__}", file=sys.stderr)
    main()
