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

// fp16 rows of hidden % 8 == 0 (16-byte aligned) up to kNormThreads * 8 * VPT wide: each thread keeps its VPT
// vectors of eight in registers between the two halves, so the row is read once and every access moves 16 bytes.
template <int VPT>
__global__ void rms_norm_vec8_kernel(__half* out, __half* sum, const __half* x, const __half* residual,
                                     const __half* w, int hidden, float eps) {
  __shared__ float shared[kNormThreads / 32];
  const long base = blockIdx.x * (long) hidden;
  float v[VPT][8];
  float sq = 0.f;
#pragma unroll
  for (int j = 0; j < VPT; j++) {
    const int e = (threadIdx.x + j * kNormThreads) * 8;
    if (e >= hidden) continue;
    const uint4 xv = *reinterpret_cast<const uint4*>(x + base + e);
    const __half* xh = reinterpret_cast<const __half*>(&xv);
    if (sum != nullptr) {
      const uint4 rv = *reinterpret_cast<const uint4*>(residual + base + e);
      const __half* rh = reinterpret_cast<const __half*>(&rv);
      uint4 sv;
      __half* sh = reinterpret_cast<__half*>(&sv);
#pragma unroll
      for (int k = 0; k < 8; k++) {
        sh[k] = __float2half_rn(__half2float(xh[k]) + __half2float(rh[k]));
        v[j][k] = __half2float(sh[k]);
      }
      *reinterpret_cast<uint4*>(sum + base + e) = sv;
    } else {
#pragma unroll
      for (int k = 0; k < 8; k++) v[j][k] = __half2float(xh[k]);
    }
#pragma unroll
    for (int k = 0; k < 8; k++) sq += v[j][k] * v[j][k];
  }
  const float inv = rsqrtf(block_sum<kNormThreads>(sq, shared) / hidden + eps);
#pragma unroll
  for (int j = 0; j < VPT; j++) {
    const int e = (threadIdx.x + j * kNormThreads) * 8;
    if (e >= hidden) continue;
    const uint4 wv = *reinterpret_cast<const uint4*>(w + e);
    const __half* wh = reinterpret_cast<const __half*>(&wv);
    uint4 ov;
    __half* oh = reinterpret_cast<__half*>(&ov);
#pragma unroll
    for (int k = 0; k < 8; k++) oh[k] = __float2half_rn(__half2float(wh[k]) * round_to<__half>(v[j][k] * inv));
    *reinterpret_cast<uint4*>(out + base + e) = ov;
  }
}

// The vectorized kernel where the row allows it (returns false otherwise: the one-element-a-thread kernel runs).
bool launch_vec8(DType t, void* out, void* sum, const void* x, const void* residual, const void* w, int rows,
                 int hidden, float eps, cudaStream_t s) {
  if (t != DType::kHalf || hidden % 8 != 0 || !aligned16({out, sum, x, residual, w})) return false;
  const int per_thread = (hidden / 8 + kNormThreads - 1) / kNormThreads;
  auto args = [&](auto kernel) {
    kernel<<<rows, kNormThreads, 0, s>>>((__half*) out, (__half*) sum, (const __half*) x, (const __half*) residual,
                                         (const __half*) w, hidden, eps);
  };
  switch (per_thread) {
    case 1: args(rms_norm_vec8_kernel<1>); return true;
    case 2: args(rms_norm_vec8_kernel<2>); return true;
    case 3: args(rms_norm_vec8_kernel<3>); return true;
    case 4: args(rms_norm_vec8_kernel<4>); return true;
    default: return false;
  }
}

}  // namespace

void rms_norm(DType t, void* out, const void* x, const void* w, int rows, int hidden, float eps, cudaStream_t s) {
  if (rows == 0) return;
  if (launch_vec8(t, out, nullptr, x, nullptr, w, rows, hidden, eps, s)) return check_launch("rms_norm");
  BARISTA_DISPATCH(t, rms_norm_kernel<T><<<rows, kNormThreads, 0, s>>>((T*) out, nullptr, (const T*) x, nullptr,
                                                                       (const T*) w, hidden, eps));
  check_launch("rms_norm");
}


void add_rms_norm(DType t, void* out, void* sum, const void* x, const void* residual, const void* w, int rows,
                  int hidden, float eps, cudaStream_t s) {
  if (rows == 0) return;
  if (launch_vec8(t, out, sum, x, residual, w, rows, hidden, eps, s)) return check_launch("add_rms_norm");
  BARISTA_DISPATCH(t, rms_norm_kernel<T><<<rows, kNormThreads, 0, s>>>((T*) out, (T*) sum, (const T*) x,
                                                                       (const T*) residual, (const T*) w, hidden,
                                                                       eps));
  check_launch("add_rms_norm");
}


}  // namespace barista
