// The CUDA-core paged attention: one block per (query row, head), for fp32 models and head sizes the tensor-core
// kernel (paged_attention_tc.cu) is not built for.
#include "kernels.h"
#include "common/dtype.cuh"
#include "common/launch.h"

#include <cfloat>

namespace barista {
namespace {

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

}  // namespace

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
