// Rotary embedding fused with the split of the qkv projection (vLLM's pos_encoding_kernels.cu, rotate_half layout).
#include "kernels.h"
#include "common/dtype.cuh"
#include "common/launch.h"

namespace barista {
namespace {

// Block (token, head): heads and KV heads are rotated, one head a block (half a head's width of threads), and the
// block after the last KV head copies v; a decode step of one token is then heads + KV heads + 1 blocks, not one.
template <typename T>
__global__ void rope_split_kernel(T* q, T* k, T* v, const T* qkv, const int64_t* positions, const T* cos,
                                  const T* sin, int heads, int kv_heads, int head_dim) {
  const long t = blockIdx.x;
  const int h = blockIdx.y;
  const int half = head_dim / 2;
  const int width = (heads + 2 * kv_heads) * head_dim;
  const T* in = qkv + t * width;
  if (h == heads + kv_heads) {  // v, copied
    const int kv_width = kv_heads * head_dim;
    for (int j = threadIdx.x; j < kv_width; j += blockDim.x) v[t * kv_width + j] = in[(heads + kv_heads) * head_dim + j];
    return;
  }
  const T* c = cos + positions[t] * half;
  const T* s = sin + positions[t] * half;
  T* dst = h < heads ? q + (t * heads + h) * head_dim : k + (t * kv_heads + (h - heads)) * head_dim;
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    const float x1 = to_f(in[h * head_dim + i]), x2 = to_f(in[h * head_dim + i + half]);
    const float cj = to_f(c[i]), sj = to_f(s[i]);
    // As the DJL path writes it: x1*cos - x2*sin and x2*cos + x1*sin, each product rounded.
    dst[i] = from_f<T>(round_to<T>(x1 * cj) - round_to<T>(x2 * sj));
    dst[i + half] = from_f<T>(round_to<T>(x2 * cj) + round_to<T>(x1 * sj));
  }
}

}  // namespace

void rope_split(DType t, void* q, void* k, void* v, const void* qkv, const int64_t* positions, const void* cos,
                const void* sin, int tokens, int heads, int kv_heads, int head_dim, cudaStream_t s) {
  if (tokens == 0) return;
  const int threads = head_dim / 2 >= 64 ? 64 : 32;
  const dim3 grid(tokens, heads + kv_heads + 1);
  BARISTA_DISPATCH(t, rope_split_kernel<T><<<grid, threads, 0, s>>>((T*) q, (T*) k, (T*) v, (const T*) qkv,
                                                                      positions, (const T*) cos, (const T*) sin,
                                                                      heads, kv_heads, head_dim));
  check_launch("rope_split");
}


}  // namespace barista
