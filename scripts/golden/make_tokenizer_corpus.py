"""Assembles the tokenizer parity corpus: Tests/Fixtures/tokenizers/corpus.jsonl, one JSON string per line.

Deterministic (seeded). Hand-written cases cover scripts, code, emoji, numbers, whitespace, contractions, NFC/NFD,
U+FFFD, special tokens in text and long words; seeded random strings mix the same ingredients; some rows come from
../shared/data/sft/alpaca_{en,zh}_demo.json (Apache-2.0), cut to at most 600 characters.
Usage: python3 scripts/golden/make_tokenizer_corpus.py [SHARED_DATA_DIR]
"""
import json
import os
import random
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "tokenizers", "corpus.jsonl")
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "data")

HAND = [
    "Hello, world! 12345 apples cost $3.50.",
    "", " ", "  ", "\n", "\t", "\r\n", "a", "A", ".", "'", "''", "'s", "\u00a0", "\u3000",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure you'll see they've done what we'd said she's got; isn't it?",
    "I'M SURE YOU'LL SEE THEY'VE DONE WHAT WE'D SAID SHE'S GOT; ISN'T IT?",
    "i'M sUrE yOu'Ll SeE tHeY'vE dOnE wHaT wE'd SaId ShE's GoT",
    "'tis the season; 'twas the night; rock 'n' roll; ma'am; o'clock; y'all'd've",
    "He said \u2019I\u2019m fine\u2019 and left \u2014 quickly.",
    "Don'T, dOn'T, DON'T, don't, don\u2019t, don\u02bct",
    "\u4f60\u597d\uff0c\u4e16\u754c\uff01\u4eca\u5929\u5929\u6c14\u5f88\u597d\u3002",
    "\u6211\u7684\u540d\u5b57\u662f\u5c0f\u660e\uff0c\u6211\u4eca\u5e7418\u5c81\uff0c\u4f4f\u5728\u5317\u4eac\u5e02\u671d\u9633\u533a\u3002",
    "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c\u3002\u30ab\u30bf\u30ab\u30ca\u3068\u3072\u3089\u304c\u306a\u3001\u6f22\u5b57\u3002\uff8a\uff9d\uff76\uff78\uff76\uff80\uff76\uff85",
    "\uc548\ub155\ud558\uc138\uc694, \uc138\uacc4! \ud55c\uad6d\uc5b4 \ud14c\uc2a4\ud2b8\uc785\ub2c8\ub2e4.",
    "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439, \u043c\u0438\u0440! \u041f\u0440\u0438\u0432\u0435\u0442.",
    "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \u03ba\u03cc\u03c3\u03bc\u03b5",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u0661\u0662\u0663",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e \u0967\u0968\u0969",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e0a\u0e32\u0e27\u0e42\u0e25\u0e01",
    "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u: \u0111\u01b0\u1ee3c kh\u00f4ng?",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber Stra\u00dfe \u00e5ngstr\u00f6m",
    "\u2126 \u212b \u2000\u2001\u2002 \u00bd \u2155 \u2460\u2461 \u00b2\u00b3 \u2167 \u3007 \u0660",
    "\U0001F600\U0001F601\U0001F602 \U0001F44D\U0001F3FD \U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466",
    "\U0001F3F3\uFE0F\u200D\U0001F308 \U0001F1FA\U0001F1F8 \U0001F1E8\U0001F1F3 \u2764\uFE0F \U0001F9D1\U0001F3FF\u200D\U0001F4BB",
    "emoji\U0001F680rocket\U0001F680\U0001F680\U0001F680 and \u263A\uFE0E vs \u263A\uFE0F",
    "\ufffd\ufffd bad bytes \ufffd here\ufffdand\ufffd\ufffd\ufffdthere \ufffd",
    "tabs\tand\t\ttabs\t\t\t\nnew\r\nlines\r\r\n\n\nend",
    "trailing spaces   \n   leading spaces\n\n\n    indented",
    "    def f(x):\n        return x * 2\n\n\n",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>",
    "text<|endoftext|>more text <|endoftext|> spaced <|endoftext|>",
    "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
    "<|fim_prefix|>def add(a, b):<|fim_suffix|>\n    return c<|fim_middle|>",
    "almost special: <|im_start| <im_start|> <|IM_START|> <|endoftext |> <|im_end|>>",
    "<s> [INST] Hello [/INST] Hi</s><s>[INST] again [/INST]",
    "<unk> <s></s><s> </s>",
    "<repo_name>swift-tune<file_sep>main.swift<filename>x.py<gh_stars>100<jupyter_code>print(1)<empty_output>",
    "https://example.com/path/to/page?query=1&other=two#anchor",
    "user.name+tag@example.co.uk, 192.168.0.1, ::1, 2001:db8::ff00:42:8329",
    "$3.50 \u20ac4,99 \u00a3100 \u00a55000 1,000,000 1.000.000,00 -42 +7 3.14159265358979 1e-10 0x1F 0b1010",
    "2024-01-31T12:34:56Z 12:00 1/2/2023 v1.2.3-beta.4",
    "a" * 500, "ab" * 300, "\u4e2d" * 300, "\U0001F600" * 100, "1" * 200, " " * 200, "\n" * 100, "\t" * 50,
    "Supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "Rindfleischetikettierungs\u00fcberwachungsaufgaben\u00fcbertragungsgesetz",
    "x" * 17 + "y" * 33 + "Z" * 9,
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "\u200b\u200c\u200d\u2060\ufeff zero widths",
    "\u2028line separator\u2029paragraph separator\u0085next line\u000bvt\u000cff",
    "control \u0001\u0002\u0007 chars \u007f del \u0000 nul",
    "Math: \u2200x\u2208\u211d, \u2203y: x\u00b2+y\u00b2\u2264r\u00b2 \u222b\u2080\u00b9 f(x)dx \u2248 \u2211\u1d62 a\u1d62",
    "\uff21\uff22\uff23\uff11\uff12\uff13 fullwidth \uff01\uff1f",
    "\U00020000\U0002A6D6\U00030000 rare CJK ext; \U0001D400\U0001D401 math bold; \U00010348 gothic",
]

CODE = [
    "func greet(_ name: String) -> String {\n    return \"Hello, \\(name)!\"\n}\n",
    "let xs = [1, 2, 3].map { $0 * 2 }.filter { $0 > 2 }",
    "import numpy as np\n\ndef softmax(x):\n    e = np.exp(x - x.max())\n    return e / e.sum()\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
    "fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n}",
    "const add = (a, b) => a + b;\nconsole.log(`sum: ${add(1, 2)}`);",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC LIMIT 10;",
    "<div class=\"container\"><p>Hello &amp; welcome</p></div>",
    "{\"key\": [1, 2.5, true, null, \"str\"], \"nested\": {\"a\": {}}}",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
    "public static void main(String[] args) { System.out.println(\"Hello\"); }",
    "#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do echo \"$f\"; done",
    "x <- c(1, 2, 3); mean(x) # R code",
    "\\begin{equation} E = mc^2 \\end{equation} % LaTeX",
    "    if (x != y && y >= z || !flag) { return -1; } // comment",
    "a+=1;b-=2;c*=3;d/=4;e%=5;f**=6;g//=7;h>>=8;i<<=9;j&=10;k|=11;l^=12",
    "::std::vector<std::pair<int, std::string>> v{{1, \"a\"}};",
    "def __init__(self, *args, **kwargs):\n        super().__init__(*args, **kwargs)",
    "   \n\t\n  \r\n  # mixed indentation\n\t  \tcode()\n",
]


def alpaca_rows(name, limit):
    path = os.path.join(DATA, "sft", name)
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    out = []
    for row in rows[:limit]:
        for key in ("instruction", "input", "output"):
            text = row.get(key) or ""
            if text:
                out.append(text[:600])
    return out


PIECES = ["the", "The", "THE", "hello", "World", "'s", "'S", "'re", "'RE", "'ll", "'Ll", "'ve", "'d", "'D", "'m", "'M",
          "'t", "'T", "n't", "N'T", "\u017f", "'\u017f", " ", "  ", "   ", "\t", "\n", "\r", "\r\n", "\n\n", " \n", "\u00a0",
          "\u3000", "\u2003", "0", "7", "42", "123", "2024", "3.14", "-", "--", ".", ",", "!", "?", "...", "(", ")", "[",
          "]", "{", "}", "<", ">", "/", "\\", "\"", "'", "`", "#", "@", "$", "%", "^", "&", "*", "_", "=", "+", "|", "~",
          ":", ";", "\u4e2d\u6587", "\u6f22\u5b57", "\u306e", "\u30c6\u30b9\u30c8", "\ud55c", "\uae00",
          "\u00e9", "e\u0301", "\u00c5", "A\u030a", "\u1e9b\u0323", "\u0915\u094d\u0937", "\u0662", "\u00bd", "\u2167",
          "\U0001F600", "\U0001F44B\U0001F3FB", "\u200d", "\ufe0f", "\ufffd", "<|im_start|>", "<|im_end|>",
          "<|endoftext|>", "<|eot_id|>", "<|begin_of_text|>", "<s>", "</s>", "<unk>", "<tool_call>", "\u0430\u0431\u0432",
          "\u03b1\u03b2\u03b3", "\u05d0", "\u0627", "\u0e01", "x", "Z", "_var", "CamelCase", "snake_case", "\u0000"]

SCRIPT_RANGES = [(0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x5FF),
                 (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x1E00, 0x1EFF), (0x2000, 0x206F),
                 (0x20A0, 0x20CF), (0x2100, 0x22FF), (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
                 (0xFF00, 0xFFEF), (0x1F300, 0x1F6FF), (0x1F900, 0x1F9FF), (0x1D400, 0x1D4FF), (0x20000, 0x2A6DF)]


def random_scalar(rng):
    lo, hi = rng.choice(SCRIPT_RANGES)
    while True:
        c = rng.randint(lo, hi)
        if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) != "Cn":
            return chr(c)


def generated(rng):
    out = []
    for n in range(1, 41):  # numbers of every length, plain and with separators
        digits = "".join(rng.choice("0123456789") for _ in range(n))
        out += [digits, " " + digits, f"x{digits}y", f"{digits}.{digits[:3]}", f"-{digits} ", f"({digits})"]
    for _ in range(40):
        out.append(f"{rng.randint(0, 10**9):,}" + rng.choice(["", " apples", "km", "\u5143", "%"]))
    for _ in range(500):  # mixtures of the pieces above, including whitespace runs and contractions
        out.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 24))))
    for _ in range(250):  # random scalars from many scripts
        out.append("".join(random_scalar(rng) for _ in range(rng.randint(1, 40))))
    for _ in range(120):  # whitespace-heavy
        out.append("".join(rng.choice([" ", "  ", "\t", "\n", "\r", "\r\n", "a", "b.", "1", "\u3000", "\u00a0", "\u2029"])
                           for _ in range(rng.randint(1, 30))))
    words = ["caf\u00e9", "na\u00efve", "\u00e0 la", "Se\u00f1or", "\u0151s", "\u1ea1\u1ec7", "\uac00\ub098", "\u00c5ngstr\u00f6m",
             "\u01c4\u01c5\u01c6", "\u1e69", "\u0390", "\u2126hm", "\u212bng", "\uf900\uf901"]
    for w in words:  # the same text in NFC, NFD, NFKC and NFKD
        for form in ("NFC", "NFD", "NFKC", "NFKD"):
            out.append(unicodedata.normalize(form, f"{w} {w.upper()} {w}s"))
    for _ in range(60):  # emoji with modifiers and ZWJ sequences
        base = [rng.choice(["\U0001F468", "\U0001F469", "\U0001F9D1", "\U0001F44D", "\U0001F64B", "\U0001F3C3"])]
        if rng.random() < 0.6:
            base.append(chr(0x1F3FB + rng.randint(0, 4)))
        if rng.random() < 0.6:
            base += ["\u200d", rng.choice(["\U0001F4BB", "\u2695\ufe0f", "\U0001F680", "\u2764\ufe0f\u200d\U0001F468"])]
        out.append(rng.choice(["", "I ", "ok"]) + "".join(base) + rng.choice(["", " done", "!", "\n"]))
    for _ in range(40):  # long words
        out.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(60, 400))))
    return out


def main():
    rng = random.Random(20251129)
    corpus = HAND + CODE + alpaca_rows("alpaca_en_demo.json", 250) + alpaca_rows("alpaca_zh_demo.json", 250)
    corpus += generated(rng)
    seen, rows = set(), []
    for text in corpus:
        if text not in seen:
            seen.add(text)
            rows.append(text)
    with open(OUT, "w", encoding="utf-8") as f:
        for text in rows:
            f.write(json.dumps(text, ensure_ascii=False) + "\n")
    print(f"{OUT}: {len(rows)} strings")


if __name__ == "__main__":
    main()
