// K/V written into the paged cache by slot (vLLM's cache_kernels.cu reshape_and_cache).
#include "kernels.h"
#include "common/dtype.cuh"
#include "common/launch.h"

namespace barista {
namespace {

template <typename T>
__global__ void write_kv_kernel(T* k_cache, T* v_cache, const T* k, const T* v, const int64_t* slots, int kv_width) {
  const long t = blockIdx.x;
  const int64_t slot = slots[t];
  if (slot < 0) return;
  for (int i = threadIdx.x; i < kv_width; i += blockDim.x) {
    k_cache[slot * kv_width + i] = k[t * kv_width + i];
    v_cache[slot * kv_width + i] = v[t * kv_width + i];
  }
}

}  // namespace

void write_kv(DType t, void* k_cache, void* v_cache, const void* k, const void* v, const int64_t* slots, int tokens,
              int kv_width, cudaStream_t s) {
  if (tokens == 0) return;
  BARISTA_DISPATCH(t, write_kv_kernel<T><<<tokens, threads_for(kv_width), 0, s>>>((T*) k_cache, (T*) v_cache,
                                                                                  (const T*) k, (const T*) v, slots,
                                                                                  kv_width));
  check_launch("write_kv");
}


}  // namespace barista
