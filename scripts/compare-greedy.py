"""Compares the greedy outputs of two `barista generate` runs (JSON lines with token_ids): exit 0 when both hold the
same 32 sequences of TOKENS tokens each. Used by the GPU checks. Usage: compare-greedy.py A.jsonl B.jsonl TOKENS"""
import json
import sys

a = [json.loads(l)["token_ids"] for l in open(sys.argv[1]) if l.startswith("{")]
b = [json.loads(l)["token_ids"] for l in open(sys.argv[2]) if l.startswith("{")]
same = sum(x == y for x, y in zip(a, b))
first = [next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), None) for x, y in zip(a, b)]
print(f"  {len(a)} vs {len(b)} sequences, {same} identical, tokens each: {sorted(set(map(len, a)))}"
      + ("" if same == len(a) else f"; first differing token per sequence: {first}"))
sys.exit(0 if len(a) == 32 and a == b and all(len(x) == int(sys.argv[3]) for x in a) else 1)
