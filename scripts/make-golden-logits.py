#!/usr/bin/env python3
"""Golden logits from Hugging Face transformers for a synthetic checkpoint (the engine tests compare against them).

Usage: make-golden-logits.py MODEL_DIR OUT_JSON
Loads MODEL_DIR with AutoModelForCausalLM in float32 (eager attention, CPU or CUDA), runs a fixed token sequence
and writes {"model", "tokens", "logits": [[...] per position]}. The token sequence is (i * 37 + 11) % vocab for
i < 24, which the Java test recomputes.
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM

model_dir, out = sys.argv[1], sys.argv[2]
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.backends.cuda.matmul.allow_tf32 = False  # plain float32 matmuls, as the reference needs
torch.backends.cudnn.allow_tf32 = False
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager").to(device)
vocab = model.config.vocab_size
tokens = [(i * 37 + 11) % vocab for i in range(24)]
with torch.no_grad():
    logits = model(torch.tensor([tokens], device=device)).logits[0].double().cpu()
with open(out, "w") as f:
    json.dump({"model": model_dir, "transformers": __import__("transformers").__version__,
               "torch": torch.__version__, "device": device, "tokens": tokens,
               "logits": [[round(v, 6) for v in row] for row in logits.tolist()]}, f)
print(f"wrote {out}: {len(tokens)} positions x {vocab} logits on {device}")
