// INT8 weight-only (W8A16, compressed-tensors per-channel or grouped scales; weights [N, K] int8 as loaded): the
// GEMV and tensor-core GEMM of quant_common.cuh instantiated for signed bytes.
#include "quantization/quant_common.cuh"

namespace barista::quant {

void int8_gemv(void* y, const void* x, const int8_t* weight, const void* scales, const void* bias, int M, int N,
               int K, int groups, cudaStream_t s) {
  launch_gemv<Int8Format>(static_cast<half*>(y), static_cast<const half*>(x), reinterpret_cast<const uint2*>(weight),
                          static_cast<const half*>(scales), nullptr, static_cast<const half*>(bias), M, N, K, groups,
                          s);
}

void int8_gemm(void* y, const void* x, const int8_t* weight, const void* scales, const void* bias, float* workspace,
               int M, int N, int K, int groups, cudaStream_t s) {
  launch_gemm<Int8Format>(static_cast<half*>(y), static_cast<const half*>(x), reinterpret_cast<const uint2*>(weight),
                          static_cast<const half*>(scales), nullptr, static_cast<const half*>(bias), workspace, M, N,
                          K, groups, s);
}

void int8_dequantize(void* w16, const int8_t* weight, const void* scales, int N, int K, int groups, cudaStream_t s) {
  launch_dequantize<Int8Format>(static_cast<half*>(w16), reinterpret_cast<const uint2*>(weight),
                                static_cast<const half*>(scales), nullptr, N, K, groups, s);
}

void int8_linear(void* y, const void* x, const int8_t* weight, const void* scales, const void* bias,
                 float* workspace, int M, int N, int K, int groups, cudaStream_t s) {
  if (M <= 0) return;
  if (M <= kGemvMaxRows) {
    int8_gemv(y, x, weight, scales, bias, M, N, K, groups, s);
  } else {
    int8_gemm(y, x, weight, scales, bias, workspace, M, N, K, groups, s);
  }
}

}  // namespace barista::quant
