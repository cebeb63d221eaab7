// barista's CUDA kernels for the CUDA forward path. Each elementwise step rounds to the storage dtype where PyTorch's
// eager ops would, so the fused kernels agree with the DJL path they replace. Written for sm_75 (T4) and up:
// no bf16, no Hopper-only instructions; fp16 storage with float32 arithmetic.
#include "kernels.h"

#include <cuda_fp16.h>

#include <cfloat>
#include <stdexcept>
#include <string>

namespace barista {
namespace {

__device__ __forceinline__ float to_f(float x) { return x; }
__device__ __forceinline__ float to_f(__half x) { return __half2float(x); }
template <typename T>
__device__ __forceinline__ T from_f(float x);
template <>
__device__ __forceinline__ float from_f<float>(float x) { return x; }
template <>
__device__ __forceinline__ __half from_f<__half>(float x) { return __float2half_rn(x); }
// One PyTorch elementwise op on the dtype: computed in float32, rounded once.
template <typename T>
__device__ __forceinline__ float round_to(float x) { return to_f(from_f<T>(x)); }

void check_launch(const char* what) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

template <int THREADS>
__device__ float block_sum(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float total = 0.f;
  for (int w = 0; w < THREADS / 32; w++) total += shared[w];
  __syncthreads();
  return total;
}

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

template <typename T>
__global__ void silu_and_mul_kernel(T* out, const T* x, int inter) {
  const long t = blockIdx.x;
  for (int i = threadIdx.x; i < inter; i += blockDim.x) {
    const float g = to_f(x[t * 2 * inter + i]);
    const float silu = round_to<T>(g / (1.f + __expf(-g)));
    out[t * inter + i] = from_f<T>(silu * to_f(x[t * 2 * inter + inter + i]));
  }
}

// One thread per logit; the 32 threads of a warp share half a mask word.
constexpr int kMaskThreads = 256;
__global__ void apply_token_mask_kernel(float* logits, const uint64_t* bits, int vocab) {
  const int j = blockIdx.x * kMaskThreads + threadIdx.x;
  if (j >= vocab) return;
  const long row = blockIdx.y;
  const uint64_t word = bits[row * ((vocab + 63) / 64) + j / 64];
  if (((word >> (j % 64)) & 1u) == 0) logits[row * vocab + j] = __int_as_float(0xff800000);  // -inf
}

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

// Paged attention, after vLLM's paged_attention_v1 in spirit (one block per (head, sequence), the context
// read in place through the block table) but written as an online softmax (flash-decoding's recurrence) so no
// shared memory grows with the context. Each warp takes tokens warp*U, warp*U + WARPS*U, ...; each lane holds
// head_dim/32 elements of q and of the running output; U tokens are loaded together so their latencies overlap.
constexpr int kAttnWarps = 8;
constexpr int kAttnUnroll = 4;

template <typename T, int D>
__global__ void paged_attention_kernel(T* out, const T* q, const T* k_cache, const T* v_cache,
                                       const int32_t* block_tables, const int32_t* row_seq,
                                       const int32_t* context_lens, int heads, int kv_heads, int max_blocks,
                                       int block_size, float scale) {
  constexpr int E = D >= 32 ? D / 32 : 1; // head_dim < 32 (test models): the upper lanes idle
  // One block per (query row, head), heads fastest so the heads sharing a KV head run side by side (L2 reuse);
  // a 1-D grid has room for any number of rows.
  const int h = blockIdx.x % heads, seq = blockIdx.x / heads; // seq: the query row
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const bool active = lane * E < D;
  const int kvh = h / (heads / kv_heads);
  const int ctx = context_lens[seq];
  const long slot_stride = (long) kv_heads * D;
  // A prompt chunk's rows share their sequence's table; each row's context ends at its own position (causal).
  const int32_t* table = block_tables + (long) (row_seq != nullptr ? row_seq[seq] : seq) * max_blocks;

  float qv[E], acc[E];
  const T* qp = q + ((long) seq * heads + h) * D + lane * E;
#pragma unroll
  for (int e = 0; e < E; e++) {
    qv[e] = active ? to_f(qp[e]) * scale : 0.f;
    acc[e] = 0.f;
  }
  float m = -FLT_MAX, l = 0.f;
  for (int t0 = warp * kAttnUnroll; t0 < ctx; t0 += kAttnWarps * kAttnUnroll) {
    float score[kAttnUnroll], val[kAttnUnroll][E];
#pragma unroll
    for (int u = 0; u < kAttnUnroll; u++) {
      const int tok = t0 + u;
      float dot = 0.f;
      if (tok < ctx && active) {
        const long slot = (long) table[tok / block_size] * block_size + tok % block_size;
        const T* kp = k_cache + slot * slot_stride + kvh * D + lane * E;
        const T* vp = v_cache + slot * slot_stride + kvh * D + lane * E;
#pragma unroll
        for (int e = 0; e < E; e++) {
          dot += qv[e] * to_f(kp[e]);
          val[u][e] = to_f(vp[e]);
        }
      } else {
#pragma unroll
        for (int e = 0; e < E; e++) val[u][e] = 0.f;
      }
      score[u] = dot;
    }
#pragma unroll
    for (int u = 0; u < kAttnUnroll; u++) {
      for (int o = 16; o > 0; o >>= 1) score[u] += __shfl_xor_sync(0xffffffffu, score[u], o);
    }
    float mx = m;
#pragma unroll
    for (int u = 0; u < kAttnUnroll; u++) {
      if (t0 + u < ctx) mx = fmaxf(mx, score[u]);
    }
    const float corr = __expf(m - mx);
    l *= corr;
#pragma unroll
    for (int e = 0; e < E; e++) acc[e] *= corr;
#pragma unroll
    for (int u = 0; u < kAttnUnroll; u++) {
      const float p = t0 + u < ctx ? __expf(score[u] - mx) : 0.f;
      l += p;
#pragma unroll
      for (int e = 0; e < E; e++) acc[e] += p * val[u][e];
    }
    m = mx;
  }

  // Merge the warps' partial softmaxes.
  __shared__ float warp_m[kAttnWarps], warp_l[kAttnWarps];
  __shared__ float warp_acc[kAttnWarps][D];
  if (lane == 0) {
    warp_m[warp] = m;
    warp_l[warp] = l;
  }
  if (active) {
#pragma unroll
    for (int e = 0; e < E; e++) warp_acc[warp][lane * E + e] = acc[e];
  }
  __syncthreads();
  float gm = -FLT_MAX;
  for (int w = 0; w < kAttnWarps; w++) gm = fmaxf(gm, warp_m[w]);
  float gl = 0.f;
  for (int w = 0; w < kAttnWarps; w++) gl += warp_l[w] * __expf(warp_m[w] - gm);
  T* op = out + ((long) seq * heads + h) * D;
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float o = 0.f;
    for (int w = 0; w < kAttnWarps; w++) o += warp_acc[w][d] * __expf(warp_m[w] - gm);
    op[d] = from_f<T>(ctx > 0 ? o / gl : 0.f);
  }
}

template <typename T>
void launch_attention(void* out, const void* q, const void* kc, const void* vc, const int32_t* bt, const int32_t* rs,
                      const int32_t* cl, int seqs, int heads, int kv_heads, int head_dim, int max_blocks,
                      int block_size, float scale, cudaStream_t s) {
  dim3 grid(static_cast<unsigned>(seqs) * heads);
  const int threads = kAttnWarps * 32;
#define BARISTA_ATTN(D)                                                                                            \
  paged_attention_kernel<T, D><<<grid, threads, 0, s>>>((T*) out, (const T*) q, (const T*) kc, (const T*) vc, bt, \
                                                        rs, cl, heads, kv_heads, max_blocks, block_size, scale)
  switch (head_dim) {
    case 16: BARISTA_ATTN(16); break;
    case 32: BARISTA_ATTN(32); break;
    case 64: BARISTA_ATTN(64); break;
    case 128: BARISTA_ATTN(128); break;
    case 256: BARISTA_ATTN(256); break;
    default: throw std::invalid_argument("paged_attention: head_dim " + std::to_string(head_dim)
                                         + " (supported: 16, 32, 64, 128, 256)");
  }
#undef BARISTA_ATTN
}

int threads_for(int work) { return work >= 256 ? 256 : (work >= 128 ? 128 : 64); }

}  // namespace

#define BARISTA_DISPATCH(t, ...)            \
  if ((t) == DType::kHalf) {                \
    using T = __half;                       \
    __VA_ARGS__;                            \
  } else {                                  \
    using T = float;                        \
    __VA_ARGS__;                            \
  }

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

void rope_split(DType t, void* q, void* k, void* v, const void* qkv, const int64_t* positions, const void* cos,
                const void* sin, int tokens, int heads, int kv_heads, int head_dim, cudaStream_t s) {
  if (tokens == 0) return;
  const int threads = threads_for((heads + kv_heads) * head_dim / 2);
  BARISTA_DISPATCH(t, rope_split_kernel<T><<<tokens, threads, 0, s>>>((T*) q, (T*) k, (T*) v, (const T*) qkv,
                                                                      positions, (const T*) cos, (const T*) sin,
                                                                      heads, kv_heads, head_dim));
  check_launch("rope_split");
}

void apply_token_mask(float* logits, const uint64_t* bits, int rows, int vocab, cudaStream_t s) {
  if (rows == 0 || vocab == 0) return;
  dim3 grid((vocab + kMaskThreads - 1) / kMaskThreads, rows);
  apply_token_mask_kernel<<<grid, kMaskThreads, 0, s>>>(logits, bits, vocab);
  check_launch("apply_token_mask");
}

void silu_and_mul(DType t, void* out, const void* x, int tokens, int inter, cudaStream_t s) {
  if (tokens == 0) return;
  BARISTA_DISPATCH(t, silu_and_mul_kernel<T><<<tokens, threads_for(inter), 0, s>>>((T*) out, (const T*) x, inter));
  check_launch("silu_and_mul");
}

void write_kv(DType t, void* k_cache, void* v_cache, const void* k, const void* v, const int64_t* slots, int tokens,
              int kv_width, cudaStream_t s) {
  if (tokens == 0) return;
  BARISTA_DISPATCH(t, write_kv_kernel<T><<<tokens, threads_for(kv_width), 0, s>>>((T*) k_cache, (T*) v_cache,
                                                                                  (const T*) k, (const T*) v, slots,
                                                                                  kv_width));
  check_launch("write_kv");
}

void paged_attention(DType t, void* out, const void* q, const void* k_cache, const void* v_cache,
                     const int32_t* block_tables, const int32_t* row_seq, const int32_t* context_lens, int rows,
                     int heads, int kv_heads, int head_dim, int max_blocks, int block_size, float scale,
                     cudaStream_t s) {
  if (rows == 0) return;
  if (heads % kv_heads != 0) throw std::invalid_argument("paged_attention: heads % kv_heads != 0");
  BARISTA_DISPATCH(t, launch_attention<T>(out, q, k_cache, v_cache, block_tables, row_seq, context_lens, rows, heads,
                                          kv_heads, head_dim, max_blocks, block_size, scale, s));
  check_launch("paged_attention");
}

}  // namespace barista
