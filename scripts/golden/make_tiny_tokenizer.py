"""A tiny byte-level BPE tokenizer for the golden Qwen2 model (vocabulary 300), so the tiny model can run the
real `sft`, `infer` and `export` paths end to end: 256 byte tokens, merges learned from the alpaca demo text up
to 297 ids, and ChatML's three special tokens at 297–299. Written with HF `tokenizers` (pinned 0.23.3) into
Tests/Fixtures/golden/qwen2/ as tokenizer.json + tokenizer_config.json (eos <|im_end|>, a ChatML chat_template).

Usage (from the repository root; the shared data folder must sit beside it):
  python3 scripts/golden/make_tiny_tokenizer.py
"""
import json
import os

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

OUT = "Tests/Fixtures/golden/qwen2"
DATA = "../shared/data/sft/alpaca_en_demo.json"
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def main():
    rows = json.load(open(DATA, encoding="utf-8"))
    texts = [" ".join(r[k] for k in ("instruction", "input", "output") if r.get(k)) for r in rows]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=297, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[], show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.add_special_tokens(SPECIALS)
    assert tokenizer.get_vocab_size() == 300, tokenizer.get_vocab_size()
    tokenizer.save(os.path.join(OUT, "tokenizer.json"))
    config = dict(tokenizer_class="PreTrainedTokenizerFast", bos_token=None, eos_token="<|im_end|>",
                  pad_token="<|endoftext|>", model_max_length=128, chat_template=CHATML, add_bos_token=False)
    with open(os.path.join(OUT, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print("ids:", tokenizer.encode("Hello, world!").ids, "specials:", [tokenizer.token_to_id(s) for s in SPECIALS])


if __name__ == "__main__":
    main()
