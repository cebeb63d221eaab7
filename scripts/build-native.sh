#!/usr/bin/env bash
# Builds native/ (libbarista_native.so: CUDA graphs and fused decode kernels) against a CUDA libtorch.
# Usage: scripts/build-native.sh [OUT_DIR]      (default native/build; prints the library's path last)
# Environment:
#   TORCH        torch's folder (include/, lib/, share/cmake); default: the one python3 imports
#   JNI_INCLUDE  the JDK's include/ folder with jni.h; default: from javac on PATH
#   CUDA_ARCHS   CMake CUDA architectures; default "75-real;80-real;86-real;89-real;90" (sm_75..sm_90 + PTX).
#                "75-virtual" builds compute_75 PTX only: the T4 code path, JIT-compiled on any newer GPU.
# Needs nvcc (CUDA toolkit matching torch's CUDA major version), g++, and cmake >= 3.18 (without cmake it
# compiles with nvcc and g++ directly).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/native/build}" && cd "${1:-$root/native/build}" && pwd)
torch=${TORCH:-$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')}
jni=${JNI_INCLUDE:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")/include}
archs=${CUDA_ARCHS:-75-real;80-real;86-real;89-real;90}
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
cuda=$(dirname "$(dirname "$nvcc")")
[ -f "$jni/jni.h" ] || { echo "build-native: no jni.h under $jni (set JNI_INCLUDE)" >&2; exit 2; }
[ -x "$nvcc" ] || { echo "build-native: nvcc not found (install the CUDA toolkit)" >&2; exit 2; }
echo "build-native: torch $torch, CUDA $cuda, archs $archs" >&2
if command -v cmake >/dev/null && cmake -S "$root/native" -B "$out" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch/share/cmake" -DJNI_INCLUDE_DIR="$jni" -DCMAKE_CUDA_COMPILER="$nvcc" \
    -DBARISTA_CUDA_ARCHS="$archs" -DCMAKE_POLICY_VERSION_MINIMUM=3.5 > "$out/configure.log" 2>&1; then
  cmake --build "$out" -j "$(nproc)" > "$out/build.log" 2>&1 || { tail -40 "$out/build.log" >&2; exit 1; }
else
  [ -f "$out/configure.log" ] && { echo "build-native: cmake configure failed, building directly:" >&2; tail -5 "$out/configure.log" >&2; }
  gencode=()
  IFS=';' read -ra list <<< "$archs"
  for a in "${list[@]}"; do
    n=${a%%-*}
    case $a in
      *-real) gencode+=("-gencode=arch=compute_$n,code=sm_$n") ;;
      *-virtual) gencode+=("-gencode=arch=compute_$n,code=compute_$n") ;;
      *) gencode+=("-gencode=arch=compute_$n,code=[sm_$n,compute_$n]") ;;
    esac
  done
  objs=()
  while IFS= read -r cu; do
    o="$out/$(echo "${cu#$root/native/src/}" | tr / _).o"
    "$nvcc" -std=c++17 -O3 --use_fast_math -lineinfo -Xcompiler -fPIC "${gencode[@]}" -I"$root/native/src" -c "$cu" -o "$o"
    objs+=("$o")
  done < <(find "$root/native/src" -name '*.cu' | sort)
  g++ -std=c++17 -O2 -fPIC -shared -D_GLIBCXX_USE_CXX11_ABI=1 -DBARISTA_NATIVE_ARCHS="\"$archs\"" \
    -I"$torch/include" -I"$torch/include/torch/csrc/api/include" -I"$cuda/include" -I"$jni" -I"$jni/linux" \
    -I"$root/native/src" "$root"/native/src/*.cpp "${objs[@]}" -o "$out/libbarista_native.so" \
    -L"$torch/lib" -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda -L"$cuda/lib64" -lcudart \
    -Wl,-rpath,"$torch/lib"
fi
echo "$out/libbarista_native.so"
