#!/usr/bin/env bash
# On a GPU box (after scripts/gpu-stage.sh, through .gpu/run.sh): builds libbarista_native twice (sm_75..sm_90 +
# PTX, and compute_75 PTX only: the T4 code path, JIT-compiled on a newer GPU), then with each:
#   1. the native JUnit tests (kernels against the DJL path, graph replay against eager, padding rows);
#   2. greedy tokens of 32 prompts x 128 tokens, CUDA graphs against --enforce-eager, on the tiny model and on the
#      r1-distill-1.5b geometry (made here with make-model).
# Usage: bash .gpu/run.sh scripts/gpu-check.sh OUT_DIR        Prints PASS/FAIL lines and a summary.
set -uo pipefail
out=${1:-/tmp/gpu-check}
mkdir -p "$out"
source "$(dirname "$0")/gpu-lib.sh"
gpu_header "$out"

t0=$(date +%s)
scripts/build-native.sh native/build > "$out/build-default.log" 2>&1; result $? "build sm_75..sm_90+PTX ($(( $(date +%s) - t0 )) s)"
tail -3 "$out/build-default.log"
CUDA_ARCHS=75-virtual scripts/build-native.sh native/build-ptx75 > "$out/build-ptx75.log" 2>&1; result $? "build compute_75 PTX only"
tail -2 "$out/build-ptx75.log"

# the quantized linear kernels on their own (no torch, no Java): both builds, checks and timings
scripts/gpu-quant-kernels.sh "$out/quant-kernels" > "$out/quant-kernels.log" 2>&1; rc=$?
grep -E "^(FAIL|device)|checks," "$out/quant-kernels.log" | head -20
result $rc "quantized GEMV/GEMM against dequantize-then-matmul in fp32 (native build and compute_75 PTX)"

"$java" -cp "$cp" barista.server.Main make-model --preset tiny --out /tmp/check-tiny > /dev/null 2>&1
r1_model /tmp/check-r1 > "$out/make-r1.log" 2>&1

greedy() { # lib model label
  local lib=$1 model=$2 label=$3 args=()
  for i in $(seq 32); do args+=(--prompt "Prompt $i: $(printf 'word%.0s ' $(seq $((i % 7 + 1))))tell me a story"); done
  for mode in graphs eager ${REPEAT:+graphs2 eager2}; do
    local extra=(); [[ $mode = eager* ]] && extra=(--enforce-eager)
    BARISTA_NATIVE_LIBRARY=$lib "$java" -cp "$cp" barista.server.Main generate --model "$model" --device cuda \
      "${args[@]}" --max-tokens ${TOKENS:-128} --temperature 0 --ignore-eos "${extra[@]}" ${EXTRA:-} \
      > "$out/greedy-$label-$mode.jsonl" 2> "$out/greedy-$label-$mode.log"
    grep -E "tokens/s|CUDA graphs|Captured" "$out/greedy-$label-$mode.log" | sed "s/^/  $label $mode: /"
  done
  python3 "$gpu_root/scripts/compare-greedy.py" "$out/greedy-$label-graphs.jsonl" "$out/greedy-$label-eager.jsonl" "${TOKENS:-128}"
  result $? "greedy graphs == eager, $label"
  if [ -n "${REPEAT:-}" ]; then # run-to-run: is either path nondeterministic?
    for m in graphs eager; do
      cmp -s <(grep -o '"token_ids":\[[^]]*\]' "$out/greedy-$label-$m.jsonl") \
        <(grep -o '"token_ids":\[[^]]*\]' "$out/greedy-$label-${m}2.jsonl") && echo "  $label: $m run twice: identical" \
        || echo "  $label: $m run twice: DIFFERENT"
    done
  fi
}

for variant in default ptx75; do
  dir=native/build; [ $variant = ptx75 ] && dir=native/build-ptx75
  lib=$PWD/$dir/libbarista_native.so
  [ -f "$lib" ] || { result 1 "$variant: no library"; continue; }
  echo "== $variant ($lib)"
  BARISTA_NATIVE_LIBRARY=$lib "$java" -cp "$cp" org.junit.platform.console.ConsoleLauncher execute \
    --select-class barista.engine.cuda.CudaKernelsTest --select-class barista.engine.CudaGraphRunnerTest \
    --select-class barista.engine.cuda.CudaGraphsBucketsTest --select-class barista.engine.cuda.QuantKernelsTest \
    ${EXTRA_TESTS:-} --details=tree --disable-banner \
    > "$out/junit-$variant.log" 2>&1
  rc=$?
  grep -E "paged|max diff vs DJL|fused ops|tests (successful|failed|skipped|aborted)|✘|MethodSource" "$out/junit-$variant.log" | grep -v "^\s*$" | head -30
  result $rc "native JUnit tests, $variant"
  greedy "$lib" /tmp/check-tiny "tiny-$variant"
  # R1's lengths: 512 tokens, so contexts grow past the split-KV thresholds
  TOKENS=512 REPEAT=$([ $variant = default ] && echo 1) greedy "$lib" /tmp/check-r1 "r1-$variant"
  # 48-token steps: prompt chunks beside decodes, so mixed steps replay graphs of their token count
  [ $variant = default ] && EXTRA="--max-num-batched-tokens 48" greedy "$lib" /tmp/check-r1 "r1-$variant-chunked"
done
bash scripts/gpu-attention-check.sh "$out/attention" > "$out/attention.txt" 2>&1; result $? "attention kernels (float64 reference, sm native + compute_75 PTX)"
grep -E "FAIL|passed" "$out/attention.txt"
tar -C "$out" -czf "$out/../gpu-check-logs.tgz" . 2>/dev/null
gpu_summary
[ "$failed" = 0 ]
