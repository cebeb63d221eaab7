#!/usr/bin/env bash
# The least device time that still checks a change to the forward path (through .gpu/run.sh): builds
# libbarista_native while the r1 checkpoint and its AWQ quantization are made, then greedy tokens of 32 prompts x 128:
# fp16 with CUDA graphs == --enforce-eager; AWQ graphs == eager with every step of 16 rows or more taking the
# dequantize + cuBLAS path (BARISTA_QUANT_DEQUANT_ROWS=16). Unless SHORT=1 (about two minutes): also async == sync,
# fp16 graphs == eager with the GEMV widened to 8 rows (BARISTA_DENSE_GEMV_ROWS=8), the same tokens with the opt-in
# fused k/v write (BARISTA_FUSED_KV_WRITE=1), and the 32-user preset twice.
# Usage: bash .gpu/run.sh scripts/gpu-smoke-check.sh [OUT_DIR]      (default $OUT, else /tmp/gpu-smoke-check)
set -uo pipefail
out=${1:-${OUT:-/tmp/gpu-smoke-check}}
mkdir -p "$out"
source "$(dirname "$0")/gpu-lib.sh"
model=/tmp/check-r1
t0=$(date +%s)
gpu_header "$out"
scripts/build-native.sh native/build > "$out/build.log" 2>&1 & build=$!
{ r1_model $model && awq_model $model; } > "$out/models.log" 2>&1
wait $build; result $? "build ($(( $(date +%s) - t0 )) s)"
args=(); for i in $(seq 32); do args+=(--prompt "Prompt $i: $(printf 'word%.0s ' $(seq $((i % 7 + 1))))tell me a story"); done
gen() { # name model-dir extra-args...: greedy tokens into OUT/name.jsonl
  local name=$1 dir=$2; shift 2
  "$java" -cp "$cp" barista.server.Main generate --model "$dir" --device cuda "${args[@]}" --max-tokens 128 \
    --temperature 0 --ignore-eos "$@" > "$out/$name.jsonl" 2> "$out/$name.log"
  grep -E "tokens/s|Linears|GEMV" "$out/$name.log" | cut -c1-220 | sed "s/^/  $name: /"
}
same() { # a b: the same 32 token lists
  cmp -s <(grep -o '"token_ids":\[[^]]*\]' "$out/$1.jsonl") <(grep -o '"token_ids":\[[^]]*\]' "$out/$2.jsonl") \
    && [ "$(grep -c token_ids "$out/$1.jsonl")" = 32 ]
}
gen fp16-graphs $model --no-async-scheduling; gen fp16-eager $model --no-async-scheduling --enforce-eager
same fp16-graphs fp16-eager; result $? "fp16 greedy graphs == eager"
BARISTA_QUANT_DEQUANT_ROWS=16 gen awq-dq-graphs $model-awq
BARISTA_QUANT_DEQUANT_ROWS=16 gen awq-dq-eager $model-awq --enforce-eager
same awq-dq-graphs awq-dq-eager; result $? "AWQ through dequantize + cuBLAS (16 rows on): graphs == eager"
if [ -z "${SHORT:-}" ]; then
  gen fp16-async $model --async-scheduling
  same fp16-graphs fp16-async; result $? "fp16 greedy --async-scheduling == --no-async-scheduling"
  BARISTA_DENSE_GEMV_ROWS=8 gen gemv-graphs $model --no-async-scheduling
  BARISTA_DENSE_GEMV_ROWS=8 gen gemv-eager $model --no-async-scheduling --enforce-eager
  same gemv-graphs gemv-eager; result $? "fp16 with the GEMV (8 rows): graphs == eager"
  BARISTA_FUSED_KV_WRITE=1 gen fused-kv-graphs $model --no-async-scheduling
  same fp16-graphs fused-kv-graphs; result $? "fp16 with k/v written by RoPE's split (BARISTA_FUSED_KV_WRITE) == without"
  MODEL_DIR=$model PRESET_ROUNDS=2 timeout 90 bash scripts/gpu-bench.sh "$out/preset" preset > "$out/preset.txt" 2>&1
  grep "round" "$out/preset.txt"
fi
rm -f "$out"/*.jsonl
gpu_summary "$(( $(date +%s) - t0 )) s"
[ "$failed" = 0 ]
