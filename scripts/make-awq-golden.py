#!/usr/bin/env python3
"""Golden logits from Hugging Face transformers for an AWQ-GEMM checkpoint written by `barista quantize --method awq`.

Usage: make-awq-golden.py AWQ_MODEL_DIR OUT_JSON
Dequantizes every AWQ linear layer with the format's own definition (not our Java code):
  X.qweight int32 [in, out/8], X.qzeros int32 [in/group, out/8], X.scales fp16 [in/group, out];
  nibble i (bits 4i..4i+3) of word j holds column 8j + [0,2,4,6,1,3,5,7][i], zeros packed the same way;
  W[i][o] = (q[i][o] - z[i//group][o]) * s[i//group][o], and X.weight = W.T ([out, in]).
Then loads Qwen2ForCausalLM in float32 (eager attention, CPU or CUDA) from config.json without its
quantization_config, with those weights, runs the token sequence (i * 37 + 11) % vocab for i < 24, and writes
{"model", "tokens", "logits": [[...] per position]} like make-golden-logits.py.
"""
import glob
import json
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForCausalLM

ORDER = [0, 2, 4, 6, 1, 3, 5, 7]


def unpack(words):
    """int32 [rows, cols/8] -> int64 [rows, cols] of 4-bit values in AutoAWQ's column order."""
    rows, n = words.shape
    out = torch.empty(rows, n * 8, dtype=torch.int64)
    w = words.to(torch.int64)
    for i in range(8):
        out[:, ORDER[i]::8] = (w >> (4 * i)) & 0xF
    return out


def dequantize(qweight, qzeros, scales):
    q = unpack(qweight)                       # [in, out]
    z = unpack(qzeros)                        # [in/group, out]
    group = q.shape[0] // z.shape[0]
    z = z.repeat_interleave(group, dim=0)
    s = scales.to(torch.float64).repeat_interleave(group, dim=0)
    return ((q - z).to(torch.float64) * s).t().contiguous()  # [out, in]


model_dir, out = sys.argv[1], sys.argv[2]
tensors = {}
for f in sorted(glob.glob(os.path.join(model_dir, "*.safetensors"))):
    tensors.update(load_file(f))
state = {}
for name, t in tensors.items():
    if name.endswith(".qweight"):
        m = name[: -len(".qweight")]
        state[m + ".weight"] = dequantize(t, tensors[m + ".qzeros"], tensors[m + ".scales"]).float()
    elif not name.endswith((".qzeros", ".scales")):
        state[name] = t.float()

with open(os.path.join(model_dir, "config.json")) as f:
    cfg = json.load(f)
qc = cfg.pop("quantization_config")
assert qc["quant_method"] == "awq" and qc["bits"] == 4 and qc["version"] == "gemm", qc
cfg.pop("torch_dtype", None)  # AWQ checkpoints say float16; the golden model runs in float32
cfg.pop("dtype", None)
config = AutoConfig.for_model(**cfg)
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.backends.cuda.matmul.allow_tf32 = False  # plain float32 matmuls, as the reference needs
torch.backends.cudnn.allow_tf32 = False
model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").float()
missing, unexpected = model.load_state_dict(state, strict=False)
missing = [k for k in missing if not (k == "lm_head.weight" and config.tie_word_embeddings)]
assert not missing and not unexpected, (missing, unexpected)
model = model.to(device).eval()
vocab = config.vocab_size
tokens = [(i * 37 + 11) % vocab for i in range(24)]
with torch.no_grad():
    logits = model(torch.tensor([tokens], device=device)).logits[0].double().cpu()
with open(out, "w") as f:
    json.dump({"model": model_dir, "group_size": qc["group_size"], "transformers": __import__("transformers").__version__,
               "torch": torch.__version__, "device": device, "tokens": tokens,
               "logits": [[round(v, 6) for v in row] for row in logits.tolist()]}, f)
print(f"wrote {out}: {len(tokens)} positions x {vocab} logits on {device}")
