#!/usr/bin/env python3
"""Encodes a fixed multilingual sample with Hugging Face's `tokenizers` library and writes
engine/src/test/resources/fixtures/tokenizer-r1.json: {"samples": [{"text": ..., "ids": [...]}, ...]}.
R1DistillTokenizerTest compares our (DJL) encodings of the same texts with it once the file exists.

Usage: make-tokenizer-fixture.py TOKENIZER [--reference MODEL]
  TOKENIZER  tokenizer.json written by TokenizerFiles.writeR1Distill, or a folder holding one
  MODEL      optional: a real DeepSeek-R1-Distill-Qwen-1.5B folder or hub id; every sample must then encode the same
             with transformers' AutoTokenizer (add_special_tokens=False), which checks our swapped tokenizer.json
"""
import argparse
import json
import pathlib

from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "engine/src/test/resources/fixtures/tokenizer-r1.json"

SAMPLES = [
    "<｜begin▁of▁sentence｜><｜User｜>Hello, world!<｜Assistant｜>",
    "你好，世界！今天天气怎么样？我们去公园散步吧。",
    "Emoji: 😀🤖🚀 👍🏽 👩‍👩‍👧‍👦 🇫🇷 ❤️",
    "def fib(n):\n\tif n < 2:\n\t\treturn n\n    return fib(n - 1) + fib(n - 2)  # 递归\n",
    "for (int i = 0; i < 10; i++) { sum += a[i] * 3.14159; }\r\n// done",
    "I'm sure we'LL see; they've said: don't DON'T won't.  Multiple   spaces\n\n\nand newlines.",
    "Numbers 1234567890 and 3,141,592.65 and 1e-10; café naïve e\u0301 Å Ω ﬁ",
    "<think>\nLet me think step by step.\n</think>\n\nThe answer is \\boxed{42}.<｜end▁of▁sentence｜>",
    "Mixed: Hello 世界 🌍 مرحبا Привет こんにちは 안녕하세요 <|EOT|> <tool_call>",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tokenizer")
    parser.add_argument("--reference")
    args = parser.parse_args()
    path = pathlib.Path(args.tokenizer)
    if path.is_dir():
        path = path / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(path))
    samples = [{"text": text, "ids": tokenizer.encode(text, add_special_tokens=False).ids} for text in SAMPLES]

    if args.reference:
        from transformers import AutoTokenizer
        reference = AutoTokenizer.from_pretrained(args.reference)
        for sample in samples:
            expected = reference.encode(sample["text"], add_special_tokens=False)
            if expected != sample["ids"]:
                raise SystemExit(f"{args.reference} encodes {sample['text']!r} as {expected}, ours {sample['ids']}")
        print(f"all samples encode the same with {args.reference}")

    OUT.write_text(json.dumps({"samples": samples}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(samples)} samples to {OUT}")


if __name__ == "__main__":
    main()
