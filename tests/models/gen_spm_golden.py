#!/usr/bin/python3
"""Writes tests/models/data/spm_golden.json: ids from the real sentencepiece library (Debian's
python3-sentencepiece, a separate process and binding from vecrl's shim) for a few hundred varied
strings, for both sentencepiece models under ../shared/data.

Run from the repository root:  /usr/bin/python3 tests/models/gen_spm_golden.py
"""
import json
import random

import sentencepiece as spm

MODELS = {
    "stories260K": "../shared/data/models/stories260K/tokenizer.model",
    "llama2": "../shared/data/tokenizers/llama2/tokenizer.model",
}


def strings():
    fixed = [
        "", " ", "  ", "\t", "\n", "a", "Hello", "Hello, world!", "Once upon a time, there was a little girl.",
        "  leading spaces", "trailing spaces   ", "multiple    inner     spaces", "tabs\tand\ttabs",
        "new\nlines\n\nhere", "mixed \t \n whitespace", "12345", "3.14159", "1,000,000", "-42", "x = 2^10 = 1024",
        "café naïve résumé", "Ünïcödé", "日本語のテキスト", "中文字符测试", "한국어 문장", "Привет, мир!",
        "مرحبا بالعالم", "שלום עולם", "Ελληνικά", "हिन्दी", "😀", "emoji 🎉🎉 party 🚀", "👩‍👩‍👧‍👦 family",
        "def f(x):\n    return x * 2\n", "{\"key\": [1, 2, 3]}", "<tag attr='v'>text</tag>", "a\u00a0b",
        "zero\u200bwidth", "The end.", "I'm can't won't", "e-mail@example.com", "https://example.org/path?q=1",
        "\\boxed{42}", "$x^2 + y^2 = z^2$", "ALL CAPS SHOUTING", "MiXeD CaSe", "...", "!!!???", "---",
        "\u2581already has the meta space", "tab\tthen\u3000ideographic space",
    ]
    rng = random.Random(1234)
    words = ["the", "cat", "sat", "on", "mat", "Lily", "ball", "happy", "über", "наш", "数学", "🙂", "42", "3.5",
             "don't", "x+y", "(", ")", "\"quoted\"", "  ", "\t", "\n", "émigré", "ß", "İ", "ﬁ", "Ａ", "①"]
    generated = []
    for _ in range(300):
        n = rng.randint(1, 12)
        parts = [rng.choice(words) for _ in range(n)]
        seps = [rng.choice([" ", " ", " ", "", "  ", "\t", "\n"]) for _ in range(n)]
        generated.append("".join(p + s for p, s in zip(parts, seps)))
    for _ in range(50):  # random code points from several blocks
        blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x4E00, 0x4FFF), (0x1F300, 0x1F64F)]
        lo, hi = rng.choice(blocks)
        generated.append("".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 10))))
    return fixed + generated


def main():
    cases = strings()
    out = {"strings": cases, "ids": {}}
    for name, path in MODELS.items():
        sp = spm.SentencePieceProcessor(model_file=path)
        out["ids"][name] = [sp.encode(s) for s in cases]
    with open("tests/models/data/spm_golden.json", "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
    print(f"wrote {len(cases)} strings x {len(MODELS)} models")


if __name__ == "__main__":
    main()
