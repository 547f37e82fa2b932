"""Trains the small SentencePiece-style byte-fallback BPE fixtures with HF tokenizers.

Writes Tests/Fixtures/tokenizers/spm-bytefallback/tokenizer.json  (Llama 2 layout: normalizer Prepend("▁") +
Replace(" ", "▁"), no pre-tokenizer, decoder Replace/ByteFallback/Fuse/Strip, TemplateProcessing "<s> $A")
and Tests/Fixtures/tokenizers/spm-metaspace/tokenizer.json (Mistral/"legacy: false" layout: no normalizer,
Metaspace pre-tokenizer with prepend_scheme "first", decoder ByteFallback + Metaspace), each with a tokenizer_config.json.
Both share one vocabulary: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, then the trained pieces.
Trained on the committed parity corpus (Tests/Fixtures/tokenizers/corpus.jsonl) with a small alphabet, so that
rare characters (CJK, emoji) take the byte fallback. Pinned: tokenizers 0.23.3.
Usage: python3 scripts/golden/make_spm_fixture.py
"""
import json
import os

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "tokenizers")
SPECIALS = ["<unk>", "<s>", "</s>"]


def train():
    with open(os.path.join(FIXTURES, "corpus.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line) for line in f]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=1300, min_frequency=2, limit_alphabet=120, special_tokens=SPECIALS,
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    trained = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    vocab = {t: i for i, t in enumerate(SPECIALS + [f"<0x{b:02X}>" for b in range(256)])}
    for token, _ in trained:
        if token not in vocab:
            vocab[token] = len(vocab)
    return vocab, [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]


def base(vocab, merges):
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.add_special_tokens(SPECIALS)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    return tok


def save(tok, name, config):
    directory = os.path.join(FIXTURES, name)
    os.makedirs(directory, exist_ok=True)
    tok.save(os.path.join(directory, "tokenizer.json"), pretty=False)
    with open(os.path.join(directory, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


def main():
    vocab, merges = train()
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
              "unk_token": "<unk>", "pad_token": None}
    llama2 = base(vocab, merges)
    llama2.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    llama2.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                        decoders.Strip(content=" ", left=1, right=0)])
    save(llama2, "spm-bytefallback", config)
    mistral = base(vocab, merges)
    mistral.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    mistral.decoder = decoders.Sequence([decoders.ByteFallback(),
                                         decoders.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)])
    save(mistral, "spm-metaspace", config)
    print(f"vocab {len(vocab)}, merges {len(merges)}")


if __name__ == "__main__":
    main()
