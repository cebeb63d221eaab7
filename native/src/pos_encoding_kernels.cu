// Rotary embedding fused with the split of the qkv projection (vLLM's pos_encoding_kernels.cu, rotate_half layout).
#include "kernels.h"
#include "common/dtype.cuh"
#include "common/launch.h"

namespace barista {
namespace {

// One block per token: rotate the q and k heads, copy v.
template <typename T>
__global__ void rope_split_kernel(T* q, T* k, T* v, const T* qkv, const int64_t* positions, const T* cos,
                                  const T* sin, int heads, int kv_heads, int head_dim) {
  const long t = blockIdx.x;
  const int half = head_dim / 2;
  const int width = (heads + 2 * kv_heads) * head_dim;
  const T* in = qkv + t * width;
  const T* c = cos + positions[t] * half;
  const T* s = sin + positions[t] * half;
  const int rotated = (heads + kv_heads) * half;
  for (int j = threadIdx.x; j < rotated; j += blockDim.x) {
    const int h = j / half, i = j % half;
    const float x1 = to_f(in[h * head_dim + i]), x2 = to_f(in[h * head_dim + i + half]);
    const float cj = to_f(c[i]), sj = to_f(s[i]);
    // As the DJL path writes it: x1*cos - x2*sin and x2*cos + x1*sin, each product rounded.
    const T o1 = from_f<T>(round_to<T>(x1 * cj) - round_to<T>(x2 * sj));
    const T o2 = from_f<T>(round_to<T>(x2 * cj) + round_to<T>(x1 * sj));
    T* dst = h < heads ? q + (t * heads + h) * head_dim : k + (t * kv_heads + (h - heads)) * head_dim;
    dst[i] = o1;
    dst[i + half] = o2;
  }
  const int kv_width = kv_heads * head_dim;
  for (int j = threadIdx.x; j < kv_width; j += blockDim.x) v[t * kv_width + j] = in[(heads + kv_heads) * head_dim + j];
}

}  // namespace

void rope_split(DType t, void* q, void* k, void* v, const void* qkv, const int64_t* positions, const void* cos,
                const void* sin, int tokens, int heads, int kv_heads, int head_dim, cudaStream_t s) {
  if (tokens == 0) return;
  const int threads = threads_for((heads + kv_heads) * head_dim / 2);
  BARISTA_DISPATCH(t, rope_split_kernel<T><<<tokens, threads, 0, s>>>((T*) q, (T*) k, (T*) v, (const T*) qkv,
                                                                      positions, (const T*) cos, (const T*) sin,
                                                                      heads, kv_heads, head_dim));
  check_launch("rope_split");
}


}  // namespace barista
