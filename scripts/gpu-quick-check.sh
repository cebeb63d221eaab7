#!/usr/bin/env bash
# The shortest GPU check of the native paths, for a lease with little time (through .gpu/run.sh): builds
# libbarista_native while the r1-distill-1.5b checkpoint and its AWQ quantization are made, runs the attention
# kernels' standalone check (scripts/gpu-attention-check.sh), then AWQ and INT8 through the JVM with the quantized
# kernels, greedy graphs == eager (scripts/gpu-quant-check.sh). scripts/gpu-check.sh is the full check.
# Usage: bash .gpu/run.sh scripts/gpu-quick-check.sh OUT_DIR
set -uo pipefail
out=${1:-/tmp/gpu-quick-check}
mkdir -p "$out"
source "$(dirname "$0")/gpu-lib.sh"
model=/tmp/check-r1
scripts/build-native.sh native/build > "$out/build.log" 2>&1 & build=$!
{ r1_model $model && awq_model $model; } > "$out/models.log" 2>&1 & models=$!
bash scripts/gpu-attention-check.sh "$out/attention" \
  > "$out/attention.txt" 2>&1; att=$?
grep -E "FAIL|passed|device| us " "$out/attention.txt"
wait $build || { echo "FAIL build"; tail -20 "$out/build.log"; exit 1; }
wait $models || { echo "FAIL models"; tail -5 "$out/models.log"; exit 1; }
BARISTA_NATIVE_LIBRARY=$PWD/native/build/libbarista_native.so bash scripts/gpu-quant-check.sh "$out/quant" $model; q=$?
[ $att = 0 ] && [ $q = 0 ]
