#!/usr/bin/env python3
"""Hugging Face transformers baseline for the side-by-side benchmark (scripts/gpu-bench.sh).

Usage: hf-baseline.py MODEL_DIR MODE BATCHES [--input-len 128] [--output-len 128] [--json OUT]
  MODE: eager (dynamic cache, eager attention) or compiled (static KV cache + torch.compile, CUDA graphs)
  BATCHES: comma-separated batch sizes, e.g. 1,8,32,64,128,256
Random prompt token ids (seeded), greedy, exactly OUTPUT_LEN new tokens (EOS ignored), float16 on CUDA.
Prints one line per batch: mode, batch, seconds, output tokens/s (after a warm-up run at the same batch size).
"""
import argparse
import json
import time

import torch
from transformers import AutoModelForCausalLM

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("mode", choices=["eager", "compiled"])
p.add_argument("batches")
p.add_argument("--input-len", type=int, default=128)
p.add_argument("--output-len", type=int, default=128)
p.add_argument("--json")
a = p.parse_args()

model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float16).cuda().eval()
gen = dict(max_new_tokens=a.output_len, min_new_tokens=a.output_len, do_sample=False, pad_token_id=0)
if a.mode == "compiled":
    # transformers compiles the decoding forward itself (CUDA graphs) once the KV cache is static.
    model.generation_config.cache_implementation = "static"
vocab = model.config.vocab_size
g = torch.Generator().manual_seed(0)
results = []
for batch in [int(b) for b in a.batches.split(",")]:
    ids = torch.randint(0, min(vocab, 151643), (batch, a.input_len), generator=g).cuda()
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        model.generate(ids, attention_mask=mask, **gen)  # warm-up (compiles in compiled mode)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = model.generate(ids, attention_mask=mask, **gen)
        torch.cuda.synchronize()
        dt = time.perf_counter() - t0
    new = (out.shape[1] - a.input_len) * batch
    r = {"mode": a.mode, "batch": batch, "seconds": round(dt, 3), "output_tok_s": round(new / dt, 1)}
    results.append(r)
    print(json.dumps(r), flush=True)
if a.json:
    with open(a.json, "w") as f:
        json.dump(results, f)
