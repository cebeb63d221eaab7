#!/usr/bin/env bash
# On a GPU box (needs nvcc and a GPU, no torch or Java): builds native/tests/quant_kernels_test.cu with the quantized
# linear kernels (native/src/quantization) twice, for the GPU's own architecture (sm_75..sm_90 + PTX) and as
# compute_75 PTX only (the T4 code path, JIT-compiled on a newer GPU), and runs each: every GEMV/GEMM against the
# dequantized weight in fp32 (rows 1, 2, 7, 8, 9, 64, 512, the r1-distill-1.5b linears; relative error <= 1e-2),
# then timings beside cuBLAS fp16 (CUDA graphs of 50 calls; the PTX-only build checks without timing).
# NO_PTX=1 leaves out the compute_75 PTX-only build. BUILD_ONLY=1 only builds; PREBUILT=1 reuses binaries already in OUT_DIR (build while the GPU is busy, time when
# it is idle). With SWEEP=1 it also times every GEMM tile shape and split-K coverage (quant_kernels_test --sweep).
# Usage: scripts/gpu-quant-kernels.sh [OUT_DIR]        Prints PASS/FAIL lines; exit status 1 on any failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/gpu-quant-kernels}
mkdir -p "$out"
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
srcs=("$root/native/tests/quant_kernels_test.cu" $(find "$root/native/src/quantization" -name '*.cu' | sort))
flags=(-std=c++17 -O3 --use_fast_math -I"$root/native/src" -lcublas)
rc=0
t0=$(date +%s)
if [ -z "${PREBUILT:-}" ] || [ ! -x "$out/quant_kernels_test" ]; then
"$nvcc" "${flags[@]}" -t 0 -gencode arch=compute_75,code=sm_75 -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90,code=[sm_90,compute_90] -o "$out/quant_kernels_test" "${srcs[@]}" & b1=$!
b2=
[ -z "${NO_PTX:-}" ] && { "$nvcc" "${flags[@]}" -gencode arch=compute_75,code=compute_75 -o "$out/quant_kernels_test_ptx75" \
  "${srcs[@]}" & b2=$!; }
wait $b1 || { echo "FAIL build"; exit 1; }
[ -z "$b2" ] || wait $b2 || { echo "FAIL build compute_75 PTX only"; exit 1; }
fi
[ -n "${BUILD_ONLY:-}" ] && exit 0
echo "built in $(( $(date +%s) - t0 )) s"
echo "== native build (sm_75, sm_80, sm_90 + PTX)"
"$out/quant_kernels_test" | tee "$out/quant-kernels.txt" || rc=1
if [ -n "${SWEEP:-}" ]; then # every tile shape and split-K coverage, checked and timed: what plan_gemm should pick
  echo "== GEMM plan sweep"
  "$out/quant_kernels_test" --sweep > "$out/quant-gemm-sweep.txt" || rc=1
  grep -E "^(FAIL|sweep)" "$out/quant-gemm-sweep.txt" | tail -70
fi
if [ -z "${NO_PTX:-}" ]; then
  echo "== compute_75 PTX only (T4 code path, JIT-compiled here)"
  "$out/quant_kernels_test_ptx75" --check-only | tee "$out/quant-kernels-ptx75.txt" || rc=1
fi
exit $rc
