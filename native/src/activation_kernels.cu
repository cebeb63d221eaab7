// SiLU-and-mul (vLLM's activation_kernels.cu: act_and_mul_kernel). Blocks tile the intermediate dimension as well as
// the tokens, so a decode step of a few rows still spreads over the GPU; fp16 rows move 16 bytes a load.
#include "kernels.h"
#include "common/dtype.cuh"
#include "common/launch.h"

namespace barista {
namespace {

constexpr int kThreads = 128;

template <typename T>
__device__ __forceinline__ T silu_mul(T gate, T up) {
  const float g = to_f(gate);
  const float silu = round_to<T>(g / (1.f + __expf(-g)));  // PyTorch's silu, rounded, then the product rounded
  return from_f<T>(silu * to_f(up));
}

// Token blockIdx.x, elements blockIdx.y * kThreads + threadIdx.x.
template <typename T>
__global__ void silu_and_mul_kernel(T* out, const T* x, int inter) {
  const long t = blockIdx.x;
  const int i = blockIdx.y * kThreads + threadIdx.x;
  if (i < inter) out[t * inter + i] = silu_mul(x[t * 2 * inter + i], x[t * 2 * inter + inter + i]);
}

// The same eight fp16 elements a thread (inter % 8 == 0, 16-byte aligned rows).
__global__ void silu_and_mul_vec8_kernel(__half* out, const __half* x, int inter) {
  const long t = blockIdx.x;
  const int i = (blockIdx.y * kThreads + threadIdx.x) * 8;
  if (i >= inter) return;
  const uint4 g = *reinterpret_cast<const uint4*>(x + t * 2 * inter + i);
  const uint4 u = *reinterpret_cast<const uint4*>(x + t * 2 * inter + inter + i);
  const __half* gh = reinterpret_cast<const __half*>(&g);
  const __half* uh = reinterpret_cast<const __half*>(&u);
  uint4 r;
  __half* rh = reinterpret_cast<__half*>(&r);
#pragma unroll
  for (int j = 0; j < 8; j++) rh[j] = silu_mul(gh[j], uh[j]);
  *reinterpret_cast<uint4*>(out + t * inter + i) = r;
}

}  // namespace

void silu_and_mul(DType t, void* out, const void* x, int tokens, int inter, cudaStream_t s) {
  if (tokens == 0) return;
  const bool vec8 = t == DType::kHalf && inter % 8 == 0 && aligned16({out, x});
  if (vec8) {
    const dim3 grid(tokens, (inter / 8 + kThreads - 1) / kThreads);
    silu_and_mul_vec8_kernel<<<grid, kThreads, 0, s>>>((__half*) out, (const __half*) x, inter);
  } else {
    const dim3 grid(tokens, (inter + kThreads - 1) / kThreads);
    BARISTA_DISPATCH(t, silu_and_mul_kernel<T><<<grid, kThreads, 0, s>>>((T*) out, (const T*) x, inter));
  }
  check_launch("silu_and_mul");
}


}  // namespace barista
