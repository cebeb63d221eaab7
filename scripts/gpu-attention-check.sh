#!/usr/bin/env bash
# On a GPU box (no Java needed): builds native/tests/attention_test.cu twice, for the box's own architecture and as
# compute_75 PTX only (the T4 code path, JIT-compiled on a newer GPU), and runs each: the paged attention kernels
# against a float64 reference and the CUDA-core kernel (decode, prompts, chunks after a cached prefix, GQA 1 and 6,
# shuffled blocks); then, for the native build, one layer's attention timed at reasoning lengths.
# Usage: scripts/gpu-attention-check.sh [OUT_DIR]      Prints PASS/FAIL lines and "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/gpu-attention-check}
mkdir -p "$out"
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
src=(-I"$root/native/src" "$root/native/tests/attention_test.cu" "$root/native/src/attention/paged_attention_tc.cu"
  "$root/native/src/attention/paged_attention_v1.cu")
rc=0
for variant in native ptx75; do
  arch=(-arch=native); [ $variant = ptx75 ] && arch=(-gencode arch=compute_75,code=compute_75)
  echo "== $variant"
  if ! "$nvcc" -std=c++17 -O3 --use_fast_math "${arch[@]}" "${src[@]}" -o "$out/attention-test-$variant" \
      > "$out/build-$variant.log" 2>&1; then
    cat "$out/build-$variant.log"; rc=1; continue
  fi
  flags=(); [ $variant = ptx75 ] && flags=(--no-bench) # the T4 path's correctness; timings come from the native build
  "$out/attention-test-$variant" "${flags[@]}" 2>&1 | tee "$out/attention-$variant.txt" || rc=1
  if [ $variant = native ]; then # the same timings with the synchronous (T4-style) tile loads, for comparison
    echo "== native, BARISTA_ATTENTION_SYNC=1"
    BARISTA_ATTENTION_SYNC=1 "$out/attention-test-$variant" --bench-only 2>&1 | tee "$out/attention-native-sync.txt"
  fi
done
exit $rc
