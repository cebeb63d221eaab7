#!/usr/bin/env bash
# Side-by-side on one GPU box: barista (our server on CUDA, driven by `barista bench`) against Hugging Face
# transformers (eager generate, and static cache + torch.compile) on the same synthetic r1-distill-1.5b checkpoint:
# 128 random prompt tokens, 128 output tokens (EOS ignored), greedy, at each concurrency / batch size.
# Usage: scripts/gpu-bench.sh OUT_DIR [ours] [eager] [compiled] [quant] [preset]  (default: ours eager compiled)
#   preset: the deployment guide's 32-user test (barista bench --preset seed-32-users) against our server
# Needs: nvidia-smi, python3 with torch + transformers, $JAVA (or java) and the runtime classpath in
# $BARISTA_GPU_CLASSPATH (or server/target/barista.jar), the Qwen2 BPE in $BARISTA_QWEN_TOKENIZER_JSON.
set -euo pipefail
out=$1; shift
parts=${*:-ours eager compiled}
mkdir -p "$out"
java=${JAVA:-java}
cp=${BARISTA_GPU_CLASSPATH:-server/target/barista.jar}
barista() { "$java" -cp "$cp" barista.server.Main "$@"; }
model=${MODEL_DIR:-/tmp/barista-r1-distill}
g=$(cd "$(dirname "$0")/.." && pwd)/.gpu # the BPE that scripts/gpu-stage.sh staged, for make-model
if [ -z "${BARISTA_QWEN_TOKENIZER_JSON:-}" ] && [ -f "$g/qwen-tokenizer.json.gz" ]; then
  gunzip -c "$g/qwen-tokenizer.json.gz" > /tmp/qwen-tokenizer.json && export BARISTA_QWEN_TOKENIZER_JSON=/tmp/qwen-tokenizer.json
fi
device=${DEVICE:-cuda}
levels=${LEVELS:-1 8 32 64 128 256}
[ -f "$model/config.json" ] || barista make-model --preset ${PRESET:-r1-distill-1.5b} --out "$model" 2>&1 | tail -1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt" || true
git rev-parse --short HEAD 2>/dev/null | tee "$out/commit.txt" || true

serve_and_bench() { # name model-dir extra-serve-args...
  local name=$1 dir=$2; shift 2
  local port=8765
  # java itself in the background (not a shell function's subshell), so the TERM below reaches the server
  "$java" -cp "$cp" barista.server.Main serve --model "$dir" --device "$device" --port $port --max-model-len 4096 --max-num-seqs 256 \
    --max-num-batched-tokens 8192 --disable-log-requests "$@" > "$out/serve-$name.log" 2>&1 &
  local pid=$! t0=$(date +%s%N)
  until curl -sf localhost:$port/health >/dev/null; do
    kill -0 $pid 2>/dev/null || { echo "server $name died"; tail -5 "$out/serve-$name.log"; return 1; }
    sleep 0.2
  done
  echo "$name: process start to healthy: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  grep -E "startup complete|weights take|KV cache" "$out/serve-$name.log" || true
  if [ -n "${PRESET_RUN:-}" ]; then
    barista bench --base-url http://127.0.0.1:$port --preset seed-32-users > "$out/preset-$name.txt" 2>&1 || true
    grep -iE "answers|median ttft|successful" "$out/preset-$name.txt" | sed "s/^/$name preset: /"
  fi
  for c in $levels; do
    local n=$(( c < 8 ? 8 : c * 2 ))
    [ "$c" -ge 128 ] && n=$c
    barista bench --base-url http://127.0.0.1:$port --num-prompts $n --concurrency $c --input-len 128 \
      --output-len 128 --ignore-eos --json "$out/bench-$name-c$c.json" > "$out/bench-$name-c$c.txt" 2>&1 \
      || echo "bench $name c=$c failed"
    grep -iE "output token throughput|successful|median ttft|gpu util" "$out/bench-$name-c$c.txt" | sed "s/^/$name c=$c: /"
  done
  kill -TERM $pid; wait $pid || true # the server drains and exits; the port is free for the next one
}

for part in $parts; do
  case $part in
    ours) serve_and_bench fp16 "$model" ;;
    preset) PRESET_RUN=1 levels="" serve_and_bench fp16 "$model" ;;
    eager) python3 scripts/hf-baseline.py "$model" eager "$(echo $levels | tr ' ' ,)" --json "$out/hf-eager.json" ;;
    compiled) python3 scripts/hf-baseline.py "$model" compiled "${COMPILED_LEVELS:-1,32,256}" --json "$out/hf-compiled.json" ;;
    quant) # AWQ from our quantizer's checkpoint; INT8 quantized while loading the 16-bit checkpoint
      [ -f "$model-awq/config.json" ] || barista quantize --model "$model" --out "$model-awq" --method awq 2>&1 | tail -1
      levels="1 64" serve_and_bench awq "$model-awq"
      levels="1 64" serve_and_bench int8 "$model" --quantization int8 ;;
  esac
done
