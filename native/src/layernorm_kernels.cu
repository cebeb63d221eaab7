// RMSNorm and fused residual-add + RMSNorm (vLLM's layernorm_kernels.cu: rms_norm, fused_add_rms_norm), one block
// per row, statistics in float32 as Hugging Face's Qwen2RMSNorm.
#include "kernels.h"
#include "common/dtype.cuh"
#include "common/launch.h"
#include "common/reduce.cuh"

namespace barista {
namespace {

constexpr int kNormThreads = 256;

// One block per row. With sum != nullptr the row is first x + residual (rounded), stored to sum.
template <typename T>
__global__ void rms_norm_kernel(T* out, T* sum, const T* x, const T* residual, const T* w, int hidden, float eps) {
  __shared__ float shared[kNormThreads / 32];
  const long row = blockIdx.x;
  const T* xr = x + row * hidden;
  float sq = 0.f;
  for (int i = threadIdx.x; i < hidden; i += kNormThreads) {
    float v = to_f(xr[i]);
    if (sum != nullptr) {
      v = round_to<T>(v + to_f(residual[row * hidden + i]));
      sum[row * hidden + i] = from_f<T>(v);
    }
    sq += v * v;
  }
  const float inv = rsqrtf(block_sum<kNormThreads>(sq, shared) / hidden + eps);
  const T* src = sum != nullptr ? sum + row * hidden : xr;
  for (int i = threadIdx.x; i < hidden; i += kNormThreads) {
    // Hugging Face: weight * (x * rsqrt(var + eps)).to(dtype): two roundings.
    out[row * hidden + i] = from_f<T>(to_f(w[i]) * round_to<T>(to_f(src[i]) * inv));
  }
}

}  // namespace

void rms_norm(DType t, void* out, const void* x, const void* w, int rows, int hidden, float eps, cudaStream_t s) {
  if (rows == 0) return;
  BARISTA_DISPATCH(t, rms_norm_kernel<T><<<rows, kNormThreads, 0, s>>>((T*) out, nullptr, (const T*) x, nullptr,
                                                                       (const T*) w, hidden, eps));
  check_launch("rms_norm");
}


void add_rms_norm(DType t, void* out, void* sum, const void* x, const void* residual, const void* w, int rows,
                  int hidden, float eps, cudaStream_t s) {
  if (rows == 0) return;
  BARISTA_DISPATCH(t, rms_norm_kernel<T><<<rows, kNormThreads, 0, s>>>((T*) out, (T*) sum, (const T*) x,
                                                                       (const T*) residual, (const T*) w, hidden,
                                                                       eps));
  check_launch("add_rms_norm");
}


}  // namespace barista
