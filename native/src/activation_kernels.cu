// SiLU-and-mul (vLLM's activation_kernels.cu).
#include "kernels.h"
#include "common/dtype.cuh"
#include "common/launch.h"

namespace barista {
namespace {

template <typename T>
__global__ void silu_and_mul_kernel(T* out, const T* x, int inter) {
  const long t = blockIdx.x;
  for (int i = threadIdx.x; i < inter; i += blockDim.x) {
    const float g = to_f(x[t * 2 * inter + i]);
    const float silu = round_to<T>(g / (1.f + __expf(-g)));
    out[t * inter + i] = from_f<T>(silu * to_f(x[t * 2 * inter + inter + i]));
  }
}

}  // namespace

void silu_and_mul(DType t, void* out, const void* x, int tokens, int inter, cudaStream_t s) {
  if (tokens == 0) return;
  BARISTA_DISPATCH(t, silu_and_mul_kernel<T><<<tokens, threads_for(inter), 0, s>>>((T*) out, (const T*) x, inter));
  check_launch("silu_and_mul");
}


}  // namespace barista
