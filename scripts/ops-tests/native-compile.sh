#!/usr/bin/env bash
# Compiles every CUDA source of native/ without a GPU, so a kernel that no longer builds is caught in CI rather than
# on a lent GPU: each .cu for sm_75 (the T4, our users' GPU), as compute_75 PTX only (what newer GPUs JIT) and for
# sm_90; then links the standalone kernel checks (scripts/gpu-attention-check.sh, scripts/gpu-quant-kernels.sh).
# The JNI files need torch's headers and are built on GPU boxes (scripts/build-native.sh). Skips without nvcc.
set -uo pipefail
cd "$(dirname "$0")/../.."
nvcc=$(command -v nvcc || true)
if [ -z "$nvcc" ]; then echo "SKIP native-compile: no nvcc here"; exit 0; fi
out=$(mktemp -d "${TMPDIR:-/tmp}/native-compile.XXXXXX")
trap 'rm -rf "$out"' EXIT
export nvcc out
compile() { # FILE ARCH-FLAG
  "$nvcc" -std=c++17 -O3 --use_fast_math "$2" -Inative/src -c "$1" -o "$out/$(echo "$1$2" | tr -c 'a-zA-Z0-9' _).o" \
    2> "$out/$(echo "$1$2" | tr -c 'a-zA-Z0-9' _).log" || { echo "FAIL $1 ($2)"; cat "$out/$(echo "$1$2" | tr -c 'a-zA-Z0-9' _).log"; exit 1; }
}
export -f compile
sources=$(find native/src -name '*.cu' | sort)
n=$(echo "$sources" | wc -l)
for arch in -gencode=arch=compute_75,code=sm_75 -gencode=arch=compute_75,code=compute_75 \
    -gencode=arch=compute_90,code=sm_90; do
  echo "$sources" | xargs -P "$(nproc)" -I{} bash -c 'compile "$1" "$2"' _ {} "$arch" || exit 1
done
"$nvcc" -std=c++17 -O3 -arch=sm_75 -Inative/src native/tests/attention_test.cu native/src/attention/*.cu \
  -o "$out/attention_test" || { echo "FAIL linking the attention check"; exit 1; }
checks="the attention check links"
if echo '#include <cublas_v2.h>' | "$nvcc" -E -x cu - > /dev/null 2>&1; then # its timings compare with cuBLAS
  "$nvcc" -std=c++17 -O3 -arch=sm_75 -Inative/src native/tests/quant_kernels_test.cu \
    $(find native/src/quantization -name '*.cu' | sort) -lcublas -o "$out/quant_kernels_test" \
    || { echo "FAIL linking the quantized-kernel check"; exit 1; }
  checks="the attention and quantized-kernel checks link"
else
  checks="$checks (no cuBLAS headers here: the quantized-kernel check is linked on GPU boxes only)"
fi
echo "native: $n CUDA sources compiled for sm_75, compute_75 PTX and sm_90; $checks"
