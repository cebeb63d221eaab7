#!/usr/bin/env bash
# On a GPU box with torch + transformers (see docs/performance.md): makes the golden fixtures from Hugging Face
# and measures the engine on CUDA. Needs $JAVA and the runtime classpath in $BARISTA_GPU_CLASSPATH (or the jar).
# Usage: scripts/gpu-engine-check.sh DATA_DIR OUT_DIR
#   DATA_DIR holds tiny/ (make-model --preset tiny) and qwen-tokenizer.json[.gz] (scripts/fetch-qwen-tokenizer.sh)
set -euo pipefail
data=$1; out=$2
mkdir -p "$out"
java=${JAVA:-java}
cp=${BARISTA_GPU_CLASSPATH:-server/target/barista.jar}
if [ -f "$data/qwen-tokenizer.json.gz" ]; then gunzip -c "$data/qwen-tokenizer.json.gz" > /tmp/qwen-tokenizer.json
else cp "$data/qwen-tokenizer.json" /tmp/qwen-tokenizer.json; fi
export BARISTA_QWEN_TOKENIZER_JSON=/tmp/qwen-tokenizer.json
run() { "$java" -cp "$cp" "$@"; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 scripts/make-golden-logits.py "$data/tiny" "$out/golden-logits-tiny.json"

r1=/tmp/barista-r1-distill
t0=$(date +%s)
run barista.server.Main make-model --out "$r1" --preset r1-distill-1.5b 2>&1 | tail -1
echo "make-model r1-distill-1.5b: $(( $(date +%s) - t0 )) s"
python3 scripts/make-tokenizer-fixture.py "$r1" && cp engine/src/test/resources/fixtures/tokenizer-r1.json "$out/"

echo "== r1-distill-1.5b on CUDA, fp16: 16 greedy tokens"
run barista.server.Main generate --model "$r1" --device cuda --prompt hi --max-tokens 16 --temperature 0 \
  --ignore-eos 2>&1 | grep -v DEBUG
echo "== single-stream decode, 256 tokens"
for i in 1 2 3; do
  run barista.server.Main generate --model "$r1" --device cuda --prompt "Tell me a story" --max-tokens 256 \
    --temperature 0 --ignore-eos 2>&1 | grep "tokens/s"
done
echo "== 64 streams, 128 tokens"
args=(); for i in $(seq 64); do args+=(--prompt "Prompt number $i: tell me a story"); done
run barista.server.Main generate --model "$r1" --device cuda "${args[@]}" --max-tokens 128 --temperature 0 \
  --ignore-eos 2>&1 | grep "tokens/s"
