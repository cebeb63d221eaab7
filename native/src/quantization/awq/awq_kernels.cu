// AWQ 4-bit (AutoAWQ GEMM checkpoints, repacked at load into [N, K / 8] words): the GEMV and tensor-core GEMM of
// quant_common.cuh instantiated for 4-bit values with per-group zero points and scales.
#include "quantization/quant_common.cuh"

namespace barista::quant {

void awq_gemv(void* y, const void* x, const uint32_t* qweight, const void* scales, const void* zeros,
              const void* bias, int M, int N, int K, int group, cudaStream_t s) {
  launch_gemv<AwqFormat>(static_cast<half*>(y), static_cast<const half*>(x), qweight,
                         static_cast<const half*>(scales), static_cast<const half*>(zeros),
                         static_cast<const half*>(bias), M, N, K, K / group, s);
}

void awq_gemm(void* y, const void* x, const uint32_t* qweight, const void* scales, const void* zeros,
              const void* bias, float* workspace, int M, int N, int K, int group, cudaStream_t s) {
  launch_gemm<AwqFormat>(static_cast<half*>(y), static_cast<const half*>(x), qweight,
                         static_cast<const half*>(scales), static_cast<const half*>(zeros),
                         static_cast<const half*>(bias), workspace, M, N, K, K / group, s);
}

void awq_dequantize(void* w16, const uint32_t* qweight, const void* scales, const void* zeros, int N, int K, int group,
                    cudaStream_t s) {
  launch_dequantize<AwqFormat>(static_cast<half*>(w16), qweight, static_cast<const half*>(scales),
                               static_cast<const half*>(zeros), N, K, K / group, s);
}

void awq_linear(void* y, const void* x, const uint32_t* qweight, const void* scales, const void* zeros,
                const void* bias, float* workspace, int M, int N, int K, int group, cudaStream_t s) {
  if (M <= 0) return;
  if (M <= kGemvMaxRows) {
    awq_gemv(y, x, qweight, scales, zeros, bias, M, N, K, group, s);
  } else {
    awq_gemm(y, x, qweight, scales, zeros, bias, workspace, M, N, K, group, s);
  }
}

}  // namespace barista::quant
