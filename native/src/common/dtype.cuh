// fp16/fp32 storage with float32 arithmetic, rounded where PyTorch's eager ops round, so fused kernels agree
// with the DJL path they replace; and the dispatch from barista::DType to a storage type.
#pragma once
#include <cuda_fp16.h>

#include "kernels.h"

namespace barista {

__device__ __forceinline__ float to_f(float x) { return x; }
__device__ __forceinline__ float to_f(__half x) { return __half2float(x); }
template <typename T>
__device__ __forceinline__ T from_f(float x);
template <>
__device__ __forceinline__ float from_f<float>(float x) { return x; }
template <>
__device__ __forceinline__ __half from_f<__half>(float x) { return __float2half_rn(x); }
// One PyTorch elementwise op on the dtype: computed in float32, rounded once.
template <typename T>
__device__ __forceinline__ float round_to(float x) { return to_f(from_f<T>(x)); }

}  // namespace barista

#define BARISTA_DISPATCH(t, ...)            \
  if ((t) == ::barista::DType::kHalf) {     \
    using T = __half;                       \
    __VA_ARGS__;                            \
  } else {                                  \
    using T = float;                        \
    __VA_ARGS__;                            \
  }
