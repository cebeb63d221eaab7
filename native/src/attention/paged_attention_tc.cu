// Tensor-core paged attention for fp16, after FlashAttention-2 (tiles of queries x keys, online softmax, P kept in
// registers as the A operand of P.V) with FlashInfer's GQA packing (the query heads of one KV head are rows of one
// tile, so K/V are read once per KV head) and flash-decoding's split-KV (chunks of a long context in separate
// blocks, merged by log-sum-exp). K/V are read in place through the block table, so cached prefixes and earlier
// chunks count; the work list comes from the host, so a step of any shape is one launch and can be captured.
// A decode's few rows share each key tile among the warps (attend_keys); a prompt chunk's rows are split among them,
// 32 a warp as in FlashAttention-2's forward kernel, so each K/V fragment read from shared memory feeds two MMAs
// (attend_rows).
//
// mma.sync m16n8k16 (sm_80+) or two m16n8k8 (sm_75, the T4); cp.async double buffering on sm_80+; no bf16.
#include <cuda_fp16.h>

#include <cfloat>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "attention/attention.h"

namespace barista {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int KT = kAttentionTileKeys;  // keys per tile of a decode (16 a warp)
constexpr int KP = 32;                  // keys per tile of a prompt chunk (registers and the T4's 64 KB of shared memory)
constexpr int kRowsPerWarp = kAttentionTileRows / kWarps;
static_assert(kRowsPerWarp == 32, "attend_rows: two m16 tiles a warp");
constexpr float kNegInf = -INFINITY;

__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
  // m16n8k16 is two m16n8k8: A columns 0-7 (registers 0, 1) with B rows 0-7, then columns 8-15 with rows 8-15.
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(b0));
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[2]), "r"(a[3]), "r"(b1));
#endif
}

__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&h);
}

__device__ __forceinline__ uint32_t ld32(const __half* p) { return *reinterpret_cast<const uint32_t*>(p); }

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Four 8x8 b16 matrices from shared memory (sm_75+): lane l gives the address of row l % 8 of matrix l / 8 and
// receives row l / 4, columns 2 (l % 4) and 2 (l % 4) + 1 of each (transposed: column l / 4, rows 2 (l % 4), +1).
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const __half* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const __half* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const __half* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(smem_addr(p)));
}

// 16 bytes global -> shared without a register round trip (sm_80+); src_bytes 0 fills zeros. Elsewhere a plain
// copy, for the PTX of older targets (the launcher never picks the async kernel there).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
#if __CUDA_ARCH__ >= 800
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src),
               "r"(valid ? 16 : 0));
#else
  *reinterpret_cast<uint4*>(dst) = valid ? *reinterpret_cast<const uint4*>(src) : make_uint4(0, 0, 0, 0);
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n");
#endif
}

template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

// Shared memory. A decode: the K and V tiles row-major [KT][D + 8] (the padding keeps ldmatrix free of bank
// conflicts), then the same bytes hold each warp's output rows for the epilogue. A prompt chunk: the Q tile
// [kAttentionTileRows][D + 8], then K and V tiles of KP keys. After either, the split merge's weights and sums.
template <int D, bool ASYNC>
struct Smem {
  static constexpr int kStride = D + 8;
  static constexpr int kStages = ASYNC ? 2 : 1;  // cp.async fills the next tile while this one is computed
  static constexpr size_t kStageHalves = 2 * KT * kStride;
  static constexpr size_t kTiles = sizeof(__half) * kStages * kStageHalves;
  static constexpr size_t kRowsStageHalves = 2 * KP * kStride;
  static constexpr size_t kRowsTiles = sizeof(__half) * (kAttentionTileRows * kStride + kStages * kRowsStageHalves);
  // the warps' output rows, or the merge's weights and sums of each (row, chunk)
  static constexpr int kStageFloats = kWarps * 16 * D > 2 * kAttentionTileRows * kAttentionMaxChunks
                                          ? kWarps * 16 * D : 2 * kAttentionTileRows * kAttentionMaxChunks;
  static constexpr size_t kStage = sizeof(float) * (kStageFloats + 2 * kWarps * 16);
  static constexpr size_t kMax = kTiles > kStage ? kTiles : kStage;
  static constexpr size_t kBytes = kMax > kRowsTiles ? kMax : kRowsTiles;
};

struct Item {
  int seq, kv_head, row_begin, row_end, kv_begin, kv_end, q_start, q_len, context_len, partial, merge_count,
      merge_slot;
};

__device__ __forceinline__ Item load_item(const int32_t* work, int i) {
  const int4* p = reinterpret_cast<const int4*>(work + kAttentionWorkHeader + 12 * i);
  int4 a = p[0], b = p[1], c = p[2];
  return Item{a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w, c.x, c.y, c.z, c.w};
}

// Loads keys [kv0, kv0 + KEYS) (zeros past kv_stop) of one KV head into shared memory, 16 bytes a thread at a
// time; a thread's loads are issued in batches before any is stored, so their latencies overlap.
template <int D, int KEYS>
__device__ __forceinline__ void load_tile(__half* ks, __half* vs, const __half* k_cache, const __half* v_cache,
                                          const int32_t* table, int kv0, int kv_stop, int kv_heads, int kv_head,
                                          int block_size) {
  constexpr int kChunks = D / 8;  // 16-byte pieces per key
  constexpr int kPieces = KEYS * kChunks;
  constexpr int kIters = (kPieces + kThreads - 1) / kThreads;
  constexpr int kBatch = kIters < 4 ? kIters : 4;
  static_assert(kIters % kBatch == 0, "tile loads must divide evenly");
  constexpr int S = D + 8;
#pragma unroll
  for (int i0 = 0; i0 < kIters; i0 += kBatch) {
    uint4 kvec[kBatch], vvec[kBatch];
    long off[kBatch];
#pragma unroll
    for (int j = 0; j < kBatch; j++) {
      const int c = threadIdx.x + (i0 + j) * kThreads;
      const int kv = kv0 + c / kChunks;
      off[j] = c < kPieces && kv < kv_stop ? ((long) table[kv / block_size] * block_size + kv % block_size) * kv_heads
                                           : -1;
    }
#pragma unroll
    for (int j = 0; j < kBatch; j++) {
      const int d0 = ((threadIdx.x + (i0 + j) * kThreads) % kChunks) * 8;
      kvec[j] = vvec[j] = make_uint4(0, 0, 0, 0);
      if (off[j] >= 0) {
        const long o = (off[j] + kv_head) * D + d0;
        kvec[j] = *reinterpret_cast<const uint4*>(k_cache + o);
        vvec[j] = *reinterpret_cast<const uint4*>(v_cache + o);
      }
    }
#pragma unroll
    for (int j = 0; j < kBatch; j++) {
      const int c = threadIdx.x + (i0 + j) * kThreads;
      if (kPieces % kThreads != 0 && c >= kPieces) continue;
      const int key = c / kChunks, d0 = (c % kChunks) * 8;
      *reinterpret_cast<uint4*>(ks + key * S + d0) = kvec[j];
      *reinterpret_cast<uint4*>(vs + key * S + d0) = vvec[j];
    }
  }
}

// load_tile's addresses, as cp.async copies: nothing waits here; cp_async_wait does.
template <int D, int KEYS>
__device__ __forceinline__ void load_tile_async(__half* ks, __half* vs, const __half* k_cache, const __half* v_cache,
                                                const int32_t* table, int kv0, int kv_stop, int kv_heads,
                                                int kv_head, int block_size) {
  constexpr int kChunks = D / 8;
  constexpr int kPieces = KEYS * kChunks;
  constexpr int kIters = (kPieces + kThreads - 1) / kThreads;
  constexpr int S = D + 8;
  long off[kIters];
#pragma unroll
  for (int j = 0; j < kIters; j++) {  // the table reads first, so their latencies overlap too
    const int c = threadIdx.x + j * kThreads;
    const int kv = kv0 + c / kChunks;
    off[j] = c < kPieces && kv < kv_stop ? ((long) table[kv / block_size] * block_size + kv % block_size) * kv_heads
                                         : -1;
  }
#pragma unroll
  for (int j = 0; j < kIters; j++) {
    const int c = threadIdx.x + j * kThreads;
    if (kPieces % kThreads != 0 && c >= kPieces) continue;
    const int key = c / kChunks, d0 = (c % kChunks) * 8;
    const long o = off[j] >= 0 ? (off[j] + kv_head) * D + d0 : 0;
    cp_async16(ks + key * S + d0, k_cache + o, off[j] >= 0);
    cp_async16(vs + key * S + d0, v_cache + o, off[j] >= 0);
  }
  cp_async_commit();
}

// A tile of at most 16 rows (a decode's query heads): the four warps take the same rows and a quarter of each key
// tile each, staged for the epilogue to merge.
template <int D, bool ASYNC>
__device__ void attend_keys(const Item& it, const __half* q, const __half* k_cache, const __half* v_cache,
                            const int32_t* block_tables, int heads, int kv_heads, int max_blocks, int block_size,
                            float scale, char* smem, float* stage_o, float* stage_m, float* stage_l) {
  constexpr int NT = KT / kWarps / 8;           // key n-tiles (of 8) per warp per key tile
  constexpr int DT = D / 8;                     // output n-tiles
  constexpr int KS = D / 16;                    // k-steps of Q.K^T
  __half* ks = reinterpret_cast<__half*>(smem);
  __half* vs = ks + KT * Smem<D, false>::kStride;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int group = heads / kv_heads;
  const float scale_log2 = scale * 1.4426950408889634f;  // scores in log2 units: exp2 of them is the softmax's exp
  const int row_base = it.row_begin;
  const int ra = row_base + g, rb = row_base + g + 8;  // the two rows this lane holds
  const int first_pos = it.context_len - it.q_len;
  const int pos_a = ra < it.row_end ? first_pos + ra / group : -1;  // -1: a row past the tile, sees nothing
  const int pos_b = rb < it.row_end ? first_pos + rb / group : -1;
  const int last_row = min(it.row_end, it.row_begin + kAttentionTileRows) - 1;
  const int kv_stop = min(it.kv_end, first_pos + last_row / group + 1);
  const int32_t* table = block_tables + (long) it.seq * max_blocks;

  uint32_t qf[KS][4];
  {
    const __half* qa = q + ((long) (it.q_start + ra / group) * heads + it.kv_head * group + ra % group) * D;
    const __half* qb = q + ((long) (it.q_start + rb / group) * heads + it.kv_head * group + rb % group) * D;
#pragma unroll
    for (int kk = 0; kk < KS; kk++) {
      qf[kk][0] = pos_a >= 0 ? ld32(qa + 16 * kk + 2 * t) : 0u;
      qf[kk][1] = pos_b >= 0 ? ld32(qb + 16 * kk + 2 * t) : 0u;
      qf[kk][2] = pos_a >= 0 ? ld32(qa + 16 * kk + 8 + 2 * t) : 0u;
      qf[kk][3] = pos_b >= 0 ? ld32(qb + 16 * kk + 8 + 2 * t) : 0u;
    }
  }
  float o[DT][4];
#pragma unroll
  for (int n = 0; n < DT; n++) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
  float m_a = kNegInf, m_b = kNegInf, l_a = 0.f, l_b = 0.f;

  if (ASYNC && it.kv_begin < kv_stop) {
    load_tile_async<D, KT>(ks, vs, k_cache, v_cache, table, it.kv_begin, kv_stop, kv_heads, it.kv_head, block_size);
  }
  int stage = 0;
  for (int kv0 = it.kv_begin; kv0 < kv_stop; kv0 += KT, stage ^= 1) {
    if (ASYNC) {
      ks = reinterpret_cast<__half*>(smem) + stage * Smem<D, ASYNC>::kStageHalves;
      vs = ks + KT * Smem<D, ASYNC>::kStride;
      if (kv0 + KT < kv_stop) {  // the next tile into the other stage, computed on two iterations ago
        __half* nk = reinterpret_cast<__half*>(smem) + (stage ^ 1) * Smem<D, ASYNC>::kStageHalves;
        load_tile_async<D, KT>(nk, nk + KT * Smem<D, ASYNC>::kStride, k_cache, v_cache, table, kv0 + KT, kv_stop,
                               kv_heads, it.kv_head, block_size);
        cp_async_wait<1>();
      } else {
        cp_async_wait<0>();
      }
      __syncthreads();
    } else {
      __syncthreads();  // the previous tile has been read
      load_tile<D, KT>(ks, vs, k_cache, v_cache, table, kv0, kv_stop, kv_heads, it.kv_head, block_size);
      __syncthreads();
    }
    const int key0 = warp * 16;  // this warp's first key in the tile
    float s[NT][4];
#pragma unroll
    for (int n = 0; n < NT; n++) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
      // Lane l addresses key 8n + l % 8, dims 16kk + 8 (l / 8): B fragments of k-steps kk and kk + 1.
      const __half* krow = ks + (key0 + 8 * n + lane % 8) * Smem<D, false>::kStride + 8 * (lane / 8);
#pragma unroll
      for (int kk = 0; kk + 1 < KS; kk += 2) {
        uint32_t b[4];
        ldmatrix_x4(b, krow + 16 * kk);
        mma_16816(s[n], qf[kk], b[0], b[1]);
        mma_16816(s[n], qf[kk + 1], b[2], b[3]);
      }
      if constexpr (KS % 2 == 1) {
        uint32_t b[2];
        ldmatrix_x2(b, ks + (key0 + 8 * n + lane % 8) * Smem<D, false>::kStride + 16 * (KS - 1) + 8 * ((lane / 8) % 2));
        mma_16816(s[n], qf[KS - 1], b[0], b[1]);
      }
    }
    float mx_a = kNegInf, mx_b = kNegInf;
    // Only a tile that reaches past a row's position (the causal diagonal), past kv_stop, or into rows beyond the
    // tile needs the per-element mask; the others (most of a long prompt's) are scaled only.
    const bool masked = kv0 + KT > kv_stop || kv0 + KT - 1 > first_pos + row_base / group ||
                        row_base + 15 >= it.row_end;
#pragma unroll
    for (int n = 0; n < NT; n++) {
#pragma unroll
      for (int e = 0; e < 4; e++) {
        if (masked) {
          const int key = kv0 + key0 + 8 * n + 2 * t + (e & 1);
          const int pos = e < 2 ? pos_a : pos_b;
          s[n][e] = key <= pos && key < kv_stop ? s[n][e] * scale_log2 : kNegInf;
        } else {
          s[n][e] *= scale_log2;
        }
      }
      mx_a = fmaxf(mx_a, fmaxf(s[n][0], s[n][1]));
      mx_b = fmaxf(mx_b, fmaxf(s[n][2], s[n][3]));
    }
#pragma unroll
    for (int o2 = 1; o2 < 4; o2 <<= 1) {
      mx_a = fmaxf(mx_a, __shfl_xor_sync(0xffffffffu, mx_a, o2));
      mx_b = fmaxf(mx_b, __shfl_xor_sync(0xffffffffu, mx_b, o2));
    }
    const float new_a = fmaxf(m_a, mx_a), new_b = fmaxf(m_b, mx_b);
    // A row that has seen no key yet keeps max -inf; its exponentials are taken against 0 and are all 0.
    const float base_a = new_a == kNegInf ? 0.f : new_a, base_b = new_b == kNegInf ? 0.f : new_b;
    const float corr_a = exp2f(m_a - base_a), corr_b = exp2f(m_b - base_b);
    m_a = new_a;
    m_b = new_b;
    float sum_a = 0.f, sum_b = 0.f;
#pragma unroll
    for (int n = 0; n < NT; n++) {
      s[n][0] = exp2f(s[n][0] - base_a);
      s[n][1] = exp2f(s[n][1] - base_a);
      s[n][2] = exp2f(s[n][2] - base_b);
      s[n][3] = exp2f(s[n][3] - base_b);
      sum_a += s[n][0] + s[n][1];
      sum_b += s[n][2] + s[n][3];
    }
    l_a = l_a * corr_a + sum_a;  // this lane's share; the quad's shares are added in the epilogue
    l_b = l_b * corr_b + sum_b;
#pragma unroll
    for (int n = 0; n < DT; n++) {
      o[n][0] *= corr_a;
      o[n][1] *= corr_a;
      o[n][2] *= corr_b;
      o[n][3] *= corr_b;
    }
#pragma unroll
    for (int kk = 0; kk < NT / 2; kk++) {  // P's accumulator layout is the A operand's: no shuffles
      const uint32_t a[4] = {pack_half2(s[2 * kk][0], s[2 * kk][1]), pack_half2(s[2 * kk][2], s[2 * kk][3]),
                             pack_half2(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                             pack_half2(s[2 * kk + 1][2], s[2 * kk + 1][3])};
      // Lane l addresses key 16kk + 8 ((l / 8) % 2) + l % 8, dims 8 (n + l / 16): transposed, the B fragments
      // (keys 2t, 2t + 1 of dim g) of output tiles n and n + 1.
      const __half* vrow = vs + (key0 + 16 * kk + 8 * ((lane / 8) % 2) + lane % 8) * Smem<D, false>::kStride + 8 * (lane / 16);
#pragma unroll
      for (int n = 0; n < DT; n += 2) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, vrow + 8 * n);
        mma_16816(o[n], a, b[0], b[1]);
        mma_16816(o[n + 1], a, b[2], b[3]);
      }
    }
    if (ASYNC) __syncthreads();  // this stage is refilled by the next iteration's copy
  }
  // Stage each warp's rows (output, max, sum) for the epilogue.
#pragma unroll
  for (int o2 = 1; o2 < 4; o2 <<= 1) {
    l_a += __shfl_xor_sync(0xffffffffu, l_a, o2);
    l_b += __shfl_xor_sync(0xffffffffu, l_b, o2);
  }
  __syncthreads();  // the tiles' bytes become the stage
  float* so = stage_o + warp * 16 * D;
#pragma unroll
  for (int n = 0; n < DT; n++) {
    so[g * D + 8 * n + 2 * t] = o[n][0];
    so[g * D + 8 * n + 2 * t + 1] = o[n][1];
    so[(g + 8) * D + 8 * n + 2 * t] = o[n][2];
    so[(g + 8) * D + 8 * n + 2 * t + 1] = o[n][3];
  }
  if (t == 0) {
    stage_m[warp * 16 + g] = m_a;
    stage_m[warp * 16 + g + 8] = m_b;
    stage_l[warp * 16 + g] = l_a;
    stage_l[warp * 16 + g + 8] = l_b;
  }
  __syncthreads();
}

// A tile of more than 16 rows (a prompt chunk), FlashAttention-2's forward loop: each warp takes 32 rows (two m16
// tiles) against whole key tiles, so every K and V fragment read from shared memory feeds two MMAs; Q waits in
// shared memory and is read by ldmatrix per k-step, as FlashAttention-2 keeps it for head_dim 128. Each warp
// writes its own rows: normalised into out, or, for a chunk of a split, unnormalised with their max and sum into
// the slot.
template <int D, bool ASYNC>
__device__ void attend_rows(const Item& it, const __half* q, const __half* k_cache, const __half* v_cache,
                            const int32_t* block_tables, __half* out, float* slot, int heads, int kv_heads,
                            int max_blocks, int block_size, float scale, char* smem) {
  constexpr int S = Smem<D, ASYNC>::kStride;
  constexpr int NT = KP / 8;  // key n-tiles (of 8) per key tile
  constexpr int DT = D / 8;   // output n-tiles
  constexpr int KS = D / 16;  // k-steps of Q.K^T
  __half* qs = reinterpret_cast<__half*>(smem);
  __half* tiles = qs + kAttentionTileRows * S;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int group = heads / kv_heads;
  const float scale_log2 = scale * 1.4426950408889634f;
  const int row_base = it.row_begin + warp * kRowsPerWarp;
  const int first_pos = it.context_len - it.q_len;
  int pos[2][2];  // [m-tile][row g, row g + 8]: the key position a row sees up to; -1 past the tile
#pragma unroll
  for (int mt = 0; mt < 2; mt++) {
#pragma unroll
    for (int h = 0; h < 2; h++) {
      const int r = row_base + 16 * mt + 8 * h + g;
      pos[mt][h] = r < it.row_end ? first_pos + r / group : -1;
    }
  }
  const int last_row = min(it.row_end, it.row_begin + kAttentionTileRows) - 1;
  const int kv_stop = min(it.kv_end, first_pos + last_row / group + 1);
  const int32_t* table = block_tables + (long) it.seq * max_blocks;

  constexpr int kChunks = D / 8;
  for (int c = threadIdx.x; c < kAttentionTileRows * kChunks; c += kThreads) {  // zeros past the tile's rows
    const int r = c / kChunks, d0 = (c % kChunks) * 8, pr = it.row_begin + r;
    uint4 v = make_uint4(0, 0, 0, 0);
    if (pr < it.row_end) {
      v = *reinterpret_cast<const uint4*>(
          q + ((long) (it.q_start + pr / group) * heads + it.kv_head * group + pr % group) * D + d0);
    }
    *reinterpret_cast<uint4*>(qs + r * S + d0) = v;
  }  // read after the loop's first barrier

  float o[2][DT][4] = {};
  float m[2][2] = {{kNegInf, kNegInf}, {kNegInf, kNegInf}}, l[2][2] = {};
  const bool computes = row_base < it.row_end;
  // Lane l addresses row l % 8 + 8 ((l / 8) % 2), dims 8 (l / 16) of an m16 x k16 block: the A fragment.
  const __half* qrow = qs + (warp * kRowsPerWarp + lane % 8 + 8 * ((lane / 8) % 2)) * S + 8 * (lane / 16);

  if (ASYNC && it.kv_begin < kv_stop) {
    load_tile_async<D, KP>(tiles, tiles + KP * S, k_cache, v_cache, table, it.kv_begin, kv_stop, kv_heads, it.kv_head,
                           block_size);
  }
  int stage = 0;
  for (int kv0 = it.kv_begin; kv0 < kv_stop; kv0 += KP, stage ^= 1) {
    __half* ks = tiles + (ASYNC ? stage * Smem<D, ASYNC>::kRowsStageHalves : 0);
    __half* vs = ks + KP * S;
    if (ASYNC) {
      if (kv0 + KP < kv_stop) {
        __half* nk = tiles + (stage ^ 1) * Smem<D, ASYNC>::kRowsStageHalves;
        load_tile_async<D, KP>(nk, nk + KP * S, k_cache, v_cache, table, kv0 + KP, kv_stop, kv_heads, it.kv_head,
                               block_size);
        cp_async_wait<1>();
      } else {
        cp_async_wait<0>();
      }
      __syncthreads();
    } else {
      __syncthreads();
      load_tile<D, KP>(ks, vs, k_cache, v_cache, table, kv0, kv_stop, kv_heads, it.kv_head, block_size);
      __syncthreads();
    }
    if (computes) {
      float s[2][NT][4] = {};
#pragma unroll
      for (int kk = 0; kk < KS; kk += 2) {
        constexpr int kPair = 2;
        uint32_t a[2][kPair][4];
#pragma unroll
        for (int mt = 0; mt < 2; mt++) {
          ldmatrix_x4(a[mt][0], qrow + 16 * mt * S + 16 * kk);
          if (kk + 1 < KS) ldmatrix_x4(a[mt][1], qrow + 16 * mt * S + 16 * (kk + 1));
        }
#pragma unroll
        for (int n = 0; n < NT; n++) {
          if (kk + 1 < KS) {  // lane l addresses key 8n + l % 8, dims 16kk + 8 (l / 8): k-steps kk and kk + 1
            uint32_t b[4];
            ldmatrix_x4(b, ks + (8 * n + lane % 8) * S + 8 * (lane / 8) + 16 * kk);
#pragma unroll
            for (int mt = 0; mt < 2; mt++) {
              mma_16816(s[mt][n], a[mt][0], b[0], b[1]);
              mma_16816(s[mt][n], a[mt][1], b[2], b[3]);
            }
          } else {
            uint32_t b[2];
            ldmatrix_x2(b, ks + (8 * n + lane % 8) * S + 16 * kk + 8 * ((lane / 8) % 2));
#pragma unroll
            for (int mt = 0; mt < 2; mt++) mma_16816(s[mt][n], a[mt][0], b[0], b[1]);
          }
        }
      }
      // Only a tile that reaches past the warp's first row's position, past kv_stop, or into rows beyond the tile
      // needs the per-element mask.
      const bool masked = kv0 + KP > kv_stop || kv0 + KP - 1 > first_pos + row_base / group ||
                          row_base + kRowsPerWarp > it.row_end;
#pragma unroll
      for (int mt = 0; mt < 2; mt++) {
        float mx[2] = {kNegInf, kNegInf};
#pragma unroll
        for (int n = 0; n < NT; n++) {
#pragma unroll
          for (int e = 0; e < 4; e++) {
            if (masked) {
              const int key = kv0 + 8 * n + 2 * t + (e & 1);
              s[mt][n][e] = key <= pos[mt][e / 2] && key < kv_stop ? s[mt][n][e] * scale_log2 : kNegInf;
            } else {
              s[mt][n][e] *= scale_log2;
            }
            mx[e / 2] = fmaxf(mx[e / 2], s[mt][n][e]);
          }
        }
#pragma unroll
        for (int h = 0; h < 2; h++) {
#pragma unroll
          for (int o2 = 1; o2 < 4; o2 <<= 1) mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], o2));
          const float next = fmaxf(m[mt][h], mx[h]);
          const float base = next == kNegInf ? 0.f : next;  // a row that has seen no key yet: all exponentials 0
          const float corr = exp2f(m[mt][h] - base);
          m[mt][h] = next;
          float sum = 0.f;
#pragma unroll
          for (int n = 0; n < NT; n++) {
            s[mt][n][2 * h] = exp2f(s[mt][n][2 * h] - base);
            s[mt][n][2 * h + 1] = exp2f(s[mt][n][2 * h + 1] - base);
            sum += s[mt][n][2 * h] + s[mt][n][2 * h + 1];
          }
          l[mt][h] = l[mt][h] * corr + sum;  // this lane's share; the quad's are added at the end
#pragma unroll
          for (int n = 0; n < DT; n++) {
            o[mt][n][2 * h] *= corr;
            o[mt][n][2 * h + 1] *= corr;
          }
        }
      }
#pragma unroll
      for (int kk = 0; kk < NT / 2; kk++) {  // P's accumulator layout is the A operand's: no shuffles
        uint32_t a[2][4];
#pragma unroll
        for (int mt = 0; mt < 2; mt++) {
          a[mt][0] = pack_half2(s[mt][2 * kk][0], s[mt][2 * kk][1]);
          a[mt][1] = pack_half2(s[mt][2 * kk][2], s[mt][2 * kk][3]);
          a[mt][2] = pack_half2(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
          a[mt][3] = pack_half2(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
        }
        // Lane l addresses key 16kk + 8 ((l / 8) % 2) + l % 8, dims 8 (n + l / 16): transposed, the B fragments
        // of output tiles n and n + 1.
        const __half* vrow = vs + (16 * kk + 8 * ((lane / 8) % 2) + lane % 8) * S + 8 * (lane / 16);
#pragma unroll
        for (int n = 0; n < DT; n += 2) {
          uint32_t b[4];
          ldmatrix_x4_trans(b, vrow + 8 * n);
#pragma unroll
          for (int mt = 0; mt < 2; mt++) {
            mma_16816(o[mt][n], a[mt], b[0], b[1]);
            mma_16816(o[mt][n + 1], a[mt], b[2], b[3]);
          }
        }
      }
    }
    if (ASYNC) __syncthreads();  // this stage is refilled by the next iteration's copy
  }
#pragma unroll
  for (int mt = 0; mt < 2; mt++) {
#pragma unroll
    for (int h = 0; h < 2; h++) {
      float sum = l[mt][h];
#pragma unroll
      for (int o2 = 1; o2 < 4; o2 <<= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o2);
      const int r = row_base + 16 * mt + 8 * h + g;
      if (r >= it.row_end) continue;
      if (slot == nullptr) {
        const float inv = sum > 0.f ? 1.f / sum : 0.f;
        __half* dst = out + ((long) (it.q_start + r / group) * heads + it.kv_head * group + r % group) * D + 2 * t;
#pragma unroll
        for (int n = 0; n < DT; n++) {
          *reinterpret_cast<__half2*>(dst + 8 * n) = __floats2half2_rn(o[mt][n][2 * h] * inv, o[mt][n][2 * h + 1] * inv);
        }
      } else {
        const int rr = r - it.row_begin;
        float* dst = slot + rr * D + 2 * t;
#pragma unroll
        for (int n = 0; n < DT; n++) *reinterpret_cast<float2*>(dst + 8 * n) = make_float2(o[mt][n][2 * h], o[mt][n][2 * h + 1]);
        if (t == 0) {
          slot[kAttentionTileRows * D + rr] = m[mt][h];
          slot[kAttentionTileRows * D + kAttentionTileRows + rr] = sum;
        }
      }
    }
  }
}

template <int D, bool ASYNC>
__global__ void __launch_bounds__(kThreads, 2) paged_attention_tc_kernel(
    __half* out, const __half* q, const __half* k_cache, const __half* v_cache, const int32_t* block_tables,
    const int32_t* work, float* scratch, int32_t* counters, int heads, int kv_heads, int max_blocks, int block_size,
    float scale) {
  if ((int) blockIdx.x >= work[0]) return;
  extern __shared__ __align__(16) char smem[];
  const Item it = load_item(work, blockIdx.x);
  float* stage_o = reinterpret_cast<float*>(smem);
  float* stage_m = stage_o + Smem<D, ASYNC>::kStageFloats;
  float* stage_l = stage_m + kWarps * 16;
  const int group = heads / kv_heads;
  const int rows = it.row_end - it.row_begin;
  float* slot = it.partial >= 0 ? scratch + (long) it.partial * kAttentionTileRows * (D + 2) : nullptr;
  if (rows > kAttentionDecodeRows) {
    attend_rows<D, ASYNC>(it, q, k_cache, v_cache, block_tables, out, slot, heads, kv_heads, max_blocks, block_size,
                          scale, smem);
  } else {
    attend_keys<D, ASYNC>(it, q, k_cache, v_cache, block_tables, heads, kv_heads, max_blocks, block_size, scale, smem,
                          stage_o, stage_m, stage_l);
    // Combine the warps' shares of the keys, then normalise into out or leave the chunk's unnormalised output,
    // max and sum in its scratch slot.
    for (int i = threadIdx.x; i < rows * D; i += kThreads) {
      const int r = i / D, d = i % D;
      float m = kNegInf;
#pragma unroll
      for (int w = 0; w < kWarps; w++) m = fmaxf(m, stage_m[w * 16 + r]);
      const float base = m == kNegInf ? 0.f : m;
      float l = 0.f, acc = 0.f;
#pragma unroll
      for (int w = 0; w < kWarps; w++) {
        const float f = exp2f(stage_m[w * 16 + r] - base);
        l += f * stage_l[w * 16 + r];
        acc += f * stage_o[(w * 16 + r) * D + d];
      }
      if (slot == nullptr) {
        const int pr = it.row_begin + r;
        const long token = it.q_start + pr / group;
        out[(token * heads + it.kv_head * group + pr % group) * D + d] = __float2half_rn(l > 0.f ? acc / l : 0.f);
      } else {
        slot[r * D + d] = acc;
        if (d == 0) {
          slot[kAttentionTileRows * D + r] = m;
          slot[kAttentionTileRows * D + kAttentionTileRows + r] = l;
        }
      }
    }
  }
  if (slot == nullptr) return;
  // The last chunk of a split to finish merges them all (log-sum-exp), so a split costs no second launch; it
  // resets the split's counter for the next step (and the next replay of a graph).
  __shared__ bool last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(&counters[it.merge_slot], 1) == it.merge_count - 1;
  __syncthreads();
  if (!last) return;
  __threadfence();
  constexpr long kSlot = (long) kAttentionTileRows * (D + 2);
  const float* first = scratch + (long) it.merge_slot * kSlot;
  const int chunks = it.merge_count;
  // Each chunk's max and sum are read once, into shared memory (the stage is free again: every thread is past the
  // epilogue), turned into the chunk's weight in each row; then every (row, dim) output sums its chunks' weighted
  // partials, loads independent of one another.
  float* weight = stage_o;                                   // [rows][chunks]
  float* chunk_sum = stage_o + kAttentionTileRows * kAttentionMaxChunks;  // [rows][chunks]
  float* inv_sum = stage_m;                                  // [rows]
  for (int i = threadIdx.x; i < rows * chunks; i += kThreads) {
    const int r = i / chunks, c = i % chunks;
    weight[i] = __ldcg(first + c * kSlot + kAttentionTileRows * D + r);
    chunk_sum[i] = __ldcg(first + c * kSlot + kAttentionTileRows * D + kAttentionTileRows + r);
  }
  __syncthreads();
  for (int r = threadIdx.x; r < rows; r += kThreads) {
    float m = kNegInf;
    for (int c = 0; c < chunks; c++) m = fmaxf(m, weight[r * chunks + c]);
    const float base = m == kNegInf ? 0.f : m;
    float l = 0.f;
    for (int c = 0; c < chunks; c++) {
      const float f = exp2f(weight[r * chunks + c] - base);
      weight[r * chunks + c] = f;
      l += f * chunk_sum[r * chunks + c];
    }
    inv_sum[r] = l > 0.f ? 1.f / l : 0.f;
  }
  __syncthreads();
  for (int i = threadIdx.x; i < rows * D; i += kThreads) {
    const int r = i / D, d = i % D;
    const float* w = weight + r * chunks;
    float acc = 0.f;
#pragma unroll 8
    for (int c = 0; c < chunks; c++) acc += w[c] * __ldcg(first + c * kSlot + r * D + d);
    const int pr = it.row_begin + r;
    const long token = it.q_start + pr / group;
    out[(token * heads + it.kv_head * group + pr % group) * D + d] = __float2half_rn(acc * inv_sum[r]);
  }
  if (threadIdx.x == 0) counters[it.merge_slot] = 0;
}


void check(const char* what) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// The double-buffered kernel where its code was compiled for sm_80+ (cp.async); the PTX of older targets, a
// compute_75 build JIT-compiled on a newer GPU included, gets the synchronous one, and so does every GPU when
// BARISTA_ATTENTION_SYNC is set (to compare the two on one machine).
template <int D>
bool use_async() {
  static const bool async = [] {
    if (std::getenv("BARISTA_ATTENTION_SYNC") != nullptr) return false;
    cudaFuncAttributes a{};
    if (cudaFuncGetAttributes(&a, paged_attention_tc_kernel<D, true>) != cudaSuccess || a.ptxVersion < 80) {
      cudaGetLastError();
      return false;
    }
    return cudaFuncSetAttribute(paged_attention_tc_kernel<D, true>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                (int) Smem<D, true>::kBytes) == cudaSuccess;
  }();
  return async;
}

template <int D>
void launch(void* out, const void* q, const void* kc, const void* vc, const int32_t* bt, const int32_t* work,
            float* scratch, int32_t* counters, int max_items, int heads, int kv_heads, int max_blocks,
            int block_size, float scale, cudaStream_t s) {
  if (use_async<D>()) {
    paged_attention_tc_kernel<D, true><<<max_items, kThreads, Smem<D, true>::kBytes, s>>>(
        (__half*) out, (const __half*) q, (const __half*) kc, (const __half*) vc, bt, work, scratch, counters, heads,
        kv_heads, max_blocks, block_size, scale);
  } else {
    // A prompt chunk's Q and K/V tiles take more than the 48 KB a launch gets unasked (52 KB for head_dim 128).
    static const bool sized = cudaFuncSetAttribute(paged_attention_tc_kernel<D, false>,
                                                   cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                   (int) Smem<D, false>::kBytes) == cudaSuccess;
    if (!sized) throw std::runtime_error("paged_attention_tc: shared memory for head_dim " + std::to_string(D));
    paged_attention_tc_kernel<D, false><<<max_items, kThreads, Smem<D, false>::kBytes, s>>>(
        (__half*) out, (const __half*) q, (const __half*) kc, (const __half*) vc, bt, work, scratch, counters, heads,
        kv_heads, max_blocks, block_size, scale);
  }
  check("paged_attention_tc");
}

}  // namespace

bool paged_attention_tc_supports(int head_dim) {
  return head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 128;
}

void paged_attention_tc(void* out, const void* q, const void* k_cache, const void* v_cache,
                        const int32_t* block_tables, const int32_t* work, float* scratch, int32_t* counters,
                        int max_items, int heads, int kv_heads, int head_dim, int max_blocks, int block_size,
                        float scale, cudaStream_t s) {
  if (max_items <= 0) return;
  if (heads % kv_heads != 0) throw std::invalid_argument("paged_attention_tc: heads % kv_heads != 0");
  switch (head_dim) {
    case 16: launch<16>(out, q, k_cache, v_cache, block_tables, work, scratch, counters, max_items, heads, kv_heads, max_blocks, block_size, scale, s); break;
    case 32: launch<32>(out, q, k_cache, v_cache, block_tables, work, scratch, counters, max_items, heads, kv_heads, max_blocks, block_size, scale, s); break;
    case 64: launch<64>(out, q, k_cache, v_cache, block_tables, work, scratch, counters, max_items, heads, kv_heads, max_blocks, block_size, scale, s); break;
    case 128: launch<128>(out, q, k_cache, v_cache, block_tables, work, scratch, counters, max_items, heads, kv_heads, max_blocks, block_size, scale, s); break;
    default: throw std::invalid_argument("paged_attention_tc: head_dim " + std::to_string(head_dim));
  }
}

}  // namespace barista
