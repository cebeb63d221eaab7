// Rotary embedding fused with the split of the qkv projection (vLLM's pos_encoding_kernels.cu, rotate_half layout).
#include "kernels.h"
#include "common/dtype.cuh"
#include "common/launch.h"

namespace barista {
namespace {

// Block (token, head): heads and KV heads are rotated, one head a block (half a head's width of threads), and the
// block after the last KV head copies v; a decode step of one token is then heads + KV heads + 1 blocks, not one.
// With k_cache set, k and v go straight to the token's slot of the paged caches (none for a slot < 0, a padding
// row) instead of into k and v: the cache write (vLLM's reshape_and_cache) fused into the split, as FlashInfer's
// rope-and-append.
template <typename T>
__global__ void rope_split_kernel(T* q, T* k, T* v, T* k_cache, T* v_cache, const int64_t* slots, const T* qkv,
                                  const int64_t* positions, const T* cos, const T* sin, int heads, int kv_heads,
                                  int head_dim) {
  const long t = blockIdx.x;
  const int h = blockIdx.y;
  const int half = head_dim / 2;
  const int kv_width = kv_heads * head_dim;
  const int width = (heads + 2 * kv_heads) * head_dim;
  const T* in = qkv + t * width;
  const long slot = k_cache != nullptr ? slots[t] : -1;
  if (k_cache != nullptr && slot < 0 && h >= heads) return;  // a padding row's k and v go nowhere
  if (h == heads + kv_heads) {  // v, copied
    T* dst = k_cache != nullptr ? v_cache + slot * kv_width : v + t * kv_width;
    for (int j = threadIdx.x; j < kv_width; j += blockDim.x) dst[j] = in[(heads + kv_heads) * head_dim + j];
    return;
  }
  const T* c = cos + positions[t] * half;
  const T* s = sin + positions[t] * half;
  T* dst = h < heads ? q + (t * heads + h) * head_dim
                     : (k_cache != nullptr ? k_cache + slot * kv_width : k + t * kv_width) + (h - heads) * head_dim;
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
  BARISTA_DISPATCH(t, rope_split_kernel<T><<<grid, threads, 0, s>>>((T*) q, (T*) k, (T*) v, nullptr, nullptr, nullptr,
                                                                      (const T*) qkv, positions, (const T*) cos,
                                                                      (const T*) sin, heads, kv_heads, head_dim));
  check_launch("rope_split");
}

void rope_split_cache(DType t, void* q, void* k_cache, void* v_cache, const int64_t* slots, const void* qkv,
                      const int64_t* positions, const void* cos, const void* sin, int tokens, int heads,
                      int kv_heads, int head_dim, cudaStream_t s) {
  if (tokens == 0) return;
  const int threads = head_dim / 2 >= 64 ? 64 : 32;
  const dim3 grid(tokens, heads + kv_heads + 1);
  BARISTA_DISPATCH(t, rope_split_kernel<T><<<grid, threads, 0, s>>>((T*) q, nullptr, nullptr, (T*) k_cache,
                                                                      (T*) v_cache, slots, (const T*) qkv, positions,
                                                                      (const T*) cos, (const T*) sin, heads,
                                                                      kv_heads, head_dim));
  check_launch("rope_split_cache");
}

}  // namespace barista
