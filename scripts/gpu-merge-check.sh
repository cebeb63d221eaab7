#!/usr/bin/env bash
# The shortest check of native and JNI code on a GPU (through .gpu/run.sh), for a lease with under ten minutes:
# builds libbarista_native (sm_75..sm_90 + PTX) while the quantized-kernel check builds and the r1-distill-1.5b
# checkpoint and its AWQ quantization are made; then the native JUnit tests (kernels against the DJL path, graphs
# against eager), greedy tokens with CUDA graphs against --enforce-eager and with async scheduling against
# --no-async-scheduling on the r1 geometry (fp16), AWQ and INT8 through the JVM (scripts/gpu-quant-check.sh), and
# last, on an idle GPU, the quantized-kernel check and (SWEEP=1, the default here) the GEMM plan sweep.
# scripts/gpu-check.sh is the full check (both builds, 512-token runs, the attention kernels' own check).
# QUICK=1 stops after the fp16 runs (no quantized checks), for about four minutes of GPU.
# Usage: bash .gpu/run.sh scripts/gpu-merge-check.sh OUT_DIR
set -uo pipefail
out=${1:-/tmp/gpu-merge-check}
mkdir -p "$out"
source "$(dirname "$0")/gpu-lib.sh"
model=/tmp/check-r1
gpu_header "$out"
t0=$(date +%s)
scripts/build-native.sh native/build > "$out/build.log" 2>&1 & build=$!
kernels=
[ -z "${QUICK:-}" ] && { NO_PTX=1 BUILD_ONLY=1 scripts/gpu-quant-kernels.sh "$out/quant-kernels" \
  > "$out/quant-kernels-build.log" 2>&1 & kernels=$!; }
{ r1_model $model && { [ -n "${QUICK:-}" ] || awq_model $model; }; } > "$out/models.log" 2>&1 & models=$!
wait $build; result $? "build sm_75..sm_90+PTX ($(( $(date +%s) - t0 )) s)"
lib=$PWD/native/build/libbarista_native.so
BARISTA_NATIVE_LIBRARY=$lib "$java" -cp "$cp" org.junit.platform.console.ConsoleLauncher execute \
  --select-class barista.engine.cuda.CudaKernelsTest --select-class barista.engine.CudaGraphRunnerTest \
  --select-class barista.engine.cuda.CudaGraphsBucketsTest --select-class barista.engine.cuda.QuantKernelsTest \
  --details=tree --disable-banner > "$out/junit.log" 2>&1
rc=$?
grep -E "max diff vs DJL|fused ops|tests (successful|failed)|✘" "$out/junit.log" | head -20
result $rc "native JUnit tests"
wait $models; result $? "r1 checkpoint and its AWQ quantization made"
args=(); for i in $(seq 32); do args+=(--prompt "Prompt $i: $(printf 'word%.0s ' $(seq $((i % 7 + 1))))tell me a story"); done
for mode in graphs eager async; do
  # graphs and eager with the synchronous loop; async (the CUDA default) against them
  extra=(--no-async-scheduling); [ $mode = eager ] && extra+=(--enforce-eager); [ $mode = async ] && extra=(--async-scheduling)
  BARISTA_NATIVE_LIBRARY=$lib "$java" -cp "$cp" barista.server.Main generate --model $model --device cuda "${args[@]}" \
    --max-tokens 128 --temperature 0 --ignore-eos "${extra[@]}" > "$out/r1-$mode.jsonl" 2> "$out/r1-$mode.log"
  grep -E "tokens/s|Captured" "$out/r1-$mode.log" | sed "s/^/  r1 $mode: /"
done
cmp -s <(grep -o '"token_ids":\[[^]]*\]' "$out/r1-graphs.jsonl") <(grep -o '"token_ids":\[[^]]*\]' "$out/r1-eager.jsonl") \
  && [ "$(grep -c token_ids "$out/r1-graphs.jsonl")" = 32 ]
result $? "greedy graphs == eager, r1 fp16, 32 prompts x 128 tokens"
cmp -s <(grep -o '"token_ids":\[[^]]*\]' "$out/r1-graphs.jsonl") <(grep -o '"token_ids":\[[^]]*\]' "$out/r1-async.jsonl")
result $? "greedy --async-scheduling == --no-async-scheduling, r1 fp16 with graphs"
if [ -n "${QUICK:-}" ]; then gpu_summary "$(( $(date +%s) - t0 )) s; QUICK: no quantized runs"; exit $failed; fi
BARISTA_NATIVE_LIBRARY=$lib bash scripts/gpu-quant-check.sh "$out/quant" $model; result $? "AWQ and INT8 through the JVM"
wait $kernels || { tail -5 "$out/quant-kernels-build.log"; }
# timed after the JVM runs, on an idle GPU
NO_PTX=1 PREBUILT=1 SWEEP=${SWEEP:-1} scripts/gpu-quant-kernels.sh "$out/quant-kernels" > "$out/quant-kernels.log" 2>&1; rc=$?
grep -E "^(FAIL|device)|checks," "$out/quant-kernels.log" | head -10
result $rc "quantized kernels against dequantize-then-matmul (native build; gpu-check.sh adds compute_75 PTX)"
gpu_summary "$(( $(date +%s) - t0 )) s"
[ "$failed" = 0 ]
