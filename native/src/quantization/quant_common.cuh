// The two kernel shapes shared by the AWQ and INT8 weight formats, templated on a format trait that loads one
// chunk (eight inputs of one output column) and dequantizes it into four half2 pairs:
//
//  - gemv_kernel (rows <= kGemvMaxRows): follows llm-awq's GEMV and TensorRT-LLM's weight-only GEMV. Each block
//    owns a few output columns and walks the whole of K with all of its threads (a split along K inside the
//    block, reduced with shuffles and shared memory), so narrow outputs still spread over many warps. Weights are
//    dequantized in registers with the magic-number conversion (FasterTransformer's, as in Marlin's dequant):
//    a 4- or 8-bit integer ORed into the mantissa of fp16 1024 is exact, so no integer-to-float instruction is
//    needed. Products of one chunk are summed in half2, then accumulated in fp32.
//  - gemm_kernel (more rows): a tensor-core GEMM after the structure of vLLM's AWQ GEMM (csrc/quantization/awq):
//    the activation tile is copied and the weight tile dequantized into shared memory, fragments are read with
//    ldmatrix and multiplied with mma.sync in fp32. The next tile is prefetched into registers while the current
//    one is multiplied (no cp.async, so it runs on sm_75). When the output tiles are fewer than the SMs, K is split
//    across blocks that write fp32 partial sums, added in a fixed order by a second kernel (deterministic).
//    sm_80+ uses m16n8k16; sm_75 issues it as two m16n8k8.
#pragma once
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>

#include "common/gemv.cuh"

#include "quantization/quant_kernels.h"

namespace barista::quant {

__device__ __forceinline__ half2 as_half2(uint32_t v) {
  half2 h;
  *reinterpret_cast<uint32_t*>(&h) = v;
  return h;
}

__device__ __forceinline__ uint32_t as_u32(half2 h) { return *reinterpret_cast<uint32_t*>(&h); }

// AWQ: one int32 word of eight 4-bit values (our nibble order, see quant_kernels.h); w = (q - z) * s.
struct AwqFormat {
  using Chunk = uint32_t;
  __device__ __forceinline__ static void dequant(Chunk c, half s, half z, half2 out[4]) {
    const half2 s2 = __half2half2(s);
    const half2 zm = __hadd2(__half2half2(z), as_half2(0x64006400u));  // 1024 + z, exact
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const half2 q = as_half2(((c >> (4 * i)) & 0x000f000fu) | 0x64006400u);  // 1024 + q, exact
      out[i] = __hmul2(__hsub2(q, zm), s2);
    }
  }
};

// INT8: eight signed bytes of one row of [N, K]; w = q * s.
struct Int8Format {
  using Chunk = uint2;
  __device__ __forceinline__ static void dequant(Chunk c, half s, half, half2 out[4]) {
    const half2 s2 = __half2half2(s);
    const half2 bias = as_half2(0x64806480u);  // 1024 + 128
    const uint32_t lo = c.x ^ 0x80808080u, hi = c.y ^ 0x80808080u;  // q + 128 as unsigned bytes
    out[0] = __hmul2(__hsub2(as_half2(__byte_perm(lo, 0x64646464u, 0x4140)), bias), s2);
    out[1] = __hmul2(__hsub2(as_half2(__byte_perm(lo, 0x64646464u, 0x4342)), bias), s2);
    out[2] = __hmul2(__hsub2(as_half2(__byte_perm(hi, 0x64646464u, 0x4140)), bias), s2);
    out[3] = __hmul2(__hsub2(as_half2(__byte_perm(hi, 0x64646464u, 0x4342)), bias), s2);
  }
};

template <class F>
__device__ __forceinline__ typename F::Chunk zero_chunk();
template <>
__device__ __forceinline__ uint32_t zero_chunk<AwqFormat>() { return 0u; }
template <>
__device__ __forceinline__ uint2 zero_chunk<Int8Format>() { return make_uint2(0x80808080u, 0x80808080u); }

// ---------------------------------------------------------------------------------------------------------------
// GEMV: M <= 8 rows. Chunks: [N, K / 8]; scales/zeros: [N, groups]; a chunk of inputs 8j.. is in group 8j / gsize.

constexpr int kGemvThreads = 128;

template <class F, int ROWS, int COLS>
__global__ void __launch_bounds__(kGemvThreads)
    gemv_kernel(half* __restrict__ y, const half* __restrict__ x, const typename F::Chunk* __restrict__ w,
                const half* __restrict__ scales, const half* __restrict__ zeros, const half* __restrict__ bias,
                int N, int K, int groups) {
  using Chunk = typename F::Chunk;
  const int n0 = blockIdx.x * COLS;
  const int chunks = K / 8;
  const int gsize = K / groups;
  float acc[ROWS][COLS] = {};

#pragma unroll 2
  for (int j = threadIdx.x; j < chunks; j += kGemvThreads) {
    Chunk wc[COLS];
    half sc[COLS], zc[COLS];
    const int g = (j * 8) / gsize;
#pragma unroll
    for (int c = 0; c < COLS; c++) {
      const int n = min(n0 + c, N - 1);  // a tail column re-reads the last one and is not written
      wc[c] = w[static_cast<size_t>(n) * chunks + j];
      sc[c] = scales[static_cast<size_t>(n) * groups + g];
      zc[c] = zeros == nullptr ? __float2half(0.f) : zeros[static_cast<size_t>(n) * groups + g];
    }
    uint4 xv[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; r++) xv[r] = reinterpret_cast<const uint4*>(x + static_cast<size_t>(r) * K)[j];
#pragma unroll
    for (int c = 0; c < COLS; c++) {
      half2 wd[4];
      F::dequant(wc[c], sc[c], zc[c], wd);
#pragma unroll
      for (int r = 0; r < ROWS; r++) {
        half2 p = __hmul2(wd[0], as_half2(xv[r].x));
        p = __hfma2(wd[1], as_half2(xv[r].y), p);
        p = __hfma2(wd[2], as_half2(xv[r].z), p);
        p = __hfma2(wd[3], as_half2(xv[r].w), p);
        const float2 f = __half22float2(p);
        acc[r][c] += f.x + f.y;
      }
    }
  }

  gemv_block_store<kGemvThreads, ROWS, COLS>(acc, y, bias, n0, N);
}

template <class F, int ROWS>
void launch_gemv_rows(half* y, const half* x, const typename F::Chunk* w, const half* scales, const half* zeros,
                      const half* bias, int N, int K, int groups, cudaStream_t s) {
  // Two columns per block where the output is narrow (more blocks along N), four where it is wide.
  if (N < 4096) {
    gemv_kernel<F, ROWS, 2><<<(N + 1) / 2, kGemvThreads, 0, s>>>(y, x, w, scales, zeros, bias, N, K, groups);
  } else {
    gemv_kernel<F, ROWS, 4><<<(N + 3) / 4, kGemvThreads, 0, s>>>(y, x, w, scales, zeros, bias, N, K, groups);
  }
}

template <class F>
void launch_gemv(half* y, const half* x, const typename F::Chunk* w, const half* scales, const half* zeros,
                 const half* bias, int M, int N, int K, int groups, cudaStream_t s) {
  switch (M) {
    case 1: launch_gemv_rows<F, 1>(y, x, w, scales, zeros, bias, N, K, groups, s); break;
    case 2: launch_gemv_rows<F, 2>(y, x, w, scales, zeros, bias, N, K, groups, s); break;
    case 3: launch_gemv_rows<F, 3>(y, x, w, scales, zeros, bias, N, K, groups, s); break;
    case 4: launch_gemv_rows<F, 4>(y, x, w, scales, zeros, bias, N, K, groups, s); break;
    case 5: launch_gemv_rows<F, 5>(y, x, w, scales, zeros, bias, N, K, groups, s); break;
    case 6: launch_gemv_rows<F, 6>(y, x, w, scales, zeros, bias, N, K, groups, s); break;
    case 7: launch_gemv_rows<F, 7>(y, x, w, scales, zeros, bias, N, K, groups, s); break;
    case 8: launch_gemv_rows<F, 8>(y, x, w, scales, zeros, bias, N, K, groups, s); break;
    default: break;  // callers route other row counts to the GEMM
  }
}

// ---------------------------------------------------------------------------------------------------------------
// GEMM: tensor cores.

// Inputs per k-tile (BK) is a template parameter: 32, 64 or 128. Wider tiles put more bytes in flight per block
// (each block has one tile's loads in flight while it multiplies the previous one) and read whole 32-byte sectors
// of a weight row. Shared-memory rows are padded by 8 halves so that ldmatrix rows hit distinct banks.
constexpr int kMaxBK = 128;

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// c += a (16x16, row) * b (16x8, col), fp16 inputs, fp32 accumulators.
__device__ __forceinline__ void mma_16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, "
               "{%0, %1, %2, %3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(b0));
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, "
               "{%0, %1, %2, %3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[2]), "r"(a[3]), "r"(b1));
#else
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
               "{%8, %9}, {%0, %1, %2, %3};\n"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

template <int WARPS_M, int WARPS_N, int MT, int NT, int BK>
struct GemmShape {
  static constexpr int kThreads = WARPS_M * WARPS_N * 32;
  static constexpr int kBM = WARPS_M * MT * 16;
  static constexpr int kBN = WARPS_N * NT * 8;
  static constexpr int kLds = BK + 8;
  static constexpr int kAPer = kBM * (BK / 8) / kThreads;  // uint4 chunks of the activation tile per thread
  static constexpr int kBPer = kBN * (BK / 8) / kThreads;  // weight chunks per thread
  static_assert(kAPer * kThreads == kBM * (BK / 8), "activation tile must split evenly over the threads");
  static_assert(kBPer * kThreads == kBN * (BK / 8), "weight tile must split evenly over the threads");
  static_assert(NT % 2 == 0, "ldmatrix.x4 reads two n8 tiles at once");
  static_assert((kBM + kBN) * kLds * 2 <= 48 * 1024, "tiles must fit static shared memory");
};

// y (splits == 1) or workspace[split] (fp32) = x[m0.., k-range] W^T[k-range, n0..].
template <class F, int WARPS_M, int WARPS_N, int MT, int NT, int BK>
__global__ void __launch_bounds__(WARPS_M* WARPS_N * 32)
    gemm_kernel(half* __restrict__ y, float* __restrict__ workspace, const half* __restrict__ x,
                const typename F::Chunk* __restrict__ w, const half* __restrict__ scales,
                const half* __restrict__ zeros, const half* __restrict__ bias, int M, int N, int K, int groups,
                int tiles_per_split) {
  using S = GemmShape<WARPS_M, WARPS_N, MT, NT, BK>;
  using Chunk = typename F::Chunk;
  __shared__ __align__(16) half as[S::kBM][S::kLds];
  __shared__ __align__(16) half bs[S::kBN][S::kLds];

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int wm = warp / WARPS_N, wn = warp % WARPS_N;
  const int m0 = blockIdx.y * S::kBM, n0 = blockIdx.x * S::kBN;
  const int chunks = K / 8, gsize = K / groups;
  const int k_tiles = K / BK;
  const int t0 = blockIdx.z * tiles_per_split, t1 = min(k_tiles, t0 + tiles_per_split);

  float acc[MT][NT][4];
#pragma unroll
  for (int i = 0; i < MT; i++)
#pragma unroll
    for (int j = 0; j < NT; j++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

  uint4 a_reg[S::kAPer];
  Chunk b_reg[S::kBPer];
  half s_reg[S::kBPer], z_reg[S::kBPer];

  auto load = [&](int t) {
#pragma unroll
    for (int i = 0; i < S::kAPer; i++) {
      const int idx = tid + i * S::kThreads, row = idx / (BK / 8), kc = idx % (BK / 8), m = m0 + row;
      a_reg[i] = m < M ? *reinterpret_cast<const uint4*>(x + static_cast<size_t>(m) * K + t * BK + kc * 8)
                       : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int i = 0; i < S::kBPer; i++) {
      const int idx = tid + i * S::kThreads, col = idx / (BK / 8), kc = idx % (BK / 8), n = n0 + col;
      const int j = t * (BK / 8) + kc;
      if (n < N) {
        const int g = (j * 8) / gsize;
        b_reg[i] = w[static_cast<size_t>(n) * chunks + j];
        s_reg[i] = scales[static_cast<size_t>(n) * groups + g];
        z_reg[i] = zeros == nullptr ? __float2half(0.f) : zeros[static_cast<size_t>(n) * groups + g];
      } else {
        b_reg[i] = zero_chunk<F>();
        s_reg[i] = __float2half(0.f);
        z_reg[i] = __float2half(0.f);
      }
    }
  };
  auto store = [&]() {
#pragma unroll
    for (int i = 0; i < S::kAPer; i++) {
      const int idx = tid + i * S::kThreads, row = idx / (BK / 8), kc = idx % (BK / 8);
      *reinterpret_cast<uint4*>(&as[row][kc * 8]) = a_reg[i];
    }
#pragma unroll
    for (int i = 0; i < S::kBPer; i++) {
      const int idx = tid + i * S::kThreads, col = idx / (BK / 8), kc = idx % (BK / 8);
      half2 d[4];
      F::dequant(b_reg[i], s_reg[i], z_reg[i], d);
      *reinterpret_cast<uint4*>(&bs[col][kc * 8]) = make_uint4(as_u32(d[0]), as_u32(d[1]), as_u32(d[2]), as_u32(d[3]));
    }
  };

  if (t0 < t1) load(t0);
  for (int t = t0; t < t1; t++) {
    __syncthreads();  // the previous tile has been read
    store();
    __syncthreads();
    if (t + 1 < t1) load(t + 1);  // in flight while this tile is multiplied
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
      uint32_t a[MT][4];
#pragma unroll
      for (int i = 0; i < MT; i++) {
        ldmatrix_x4(a[i], &as[wm * MT * 16 + i * 16 + lane % 16][kk + (lane / 16) * 8]);
      }
#pragma unroll
      for (int jp = 0; jp < NT / 2; jp++) {
        uint32_t b[4];  // b0, b1 of n-tile 2jp, then of 2jp + 1
        ldmatrix_x4(b, &bs[wn * NT * 8 + jp * 16 + (lane / 16) * 8 + lane % 8][kk + ((lane / 8) % 2) * 8]);
#pragma unroll
        for (int i = 0; i < MT; i++) {
          mma_16816(acc[i][2 * jp], a[i], b[0], b[1]);
          mma_16816(acc[i][2 * jp + 1], a[i], b[2], b[3]);
        }
      }
    }
  }

  const int gid = lane / 4, tig = lane % 4;
#pragma unroll
  for (int i = 0; i < MT; i++)
#pragma unroll
    for (int j = 0; j < NT; j++) {
      const int n = n0 + wn * NT * 8 + j * 8 + tig * 2;
      if (n >= N) continue;
#pragma unroll
      for (int h = 0; h < 2; h++) {
        const int m = m0 + wm * MT * 16 + i * 16 + gid + h * 8;
        if (m >= M) continue;
        float v0 = acc[i][j][2 * h], v1 = acc[i][j][2 * h + 1];
        if (gridDim.z == 1) {
          if (bias != nullptr) {
            v0 += __half2float(bias[n]);
            v1 += __half2float(bias[n + 1]);
          }
          *reinterpret_cast<half2*>(y + static_cast<size_t>(m) * N + n) = __floats2half2_rn(v0, v1);
        } else {
          *reinterpret_cast<float2*>(workspace + (static_cast<size_t>(blockIdx.z) * M + m) * N + n) =
              make_float2(v0, v1);
        }
      }
    }
}

// w16 [N, K] fp16 from the quantized weight: one thread per chunk of eight inputs, written as one 16-byte store.
template <class F>
__global__ void dequantize_kernel(half* __restrict__ w16, const typename F::Chunk* __restrict__ w,
                                  const half* __restrict__ scales, const half* __restrict__ zeros, int N, int K,
                                  int groups) {
  const int chunks = K / 8;
  const long i = static_cast<long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long>(N) * chunks) return;
  const int n = static_cast<int>(i / chunks), j = static_cast<int>(i % chunks), g = (j * 8) / (K / groups);
  half2 d[4];
  F::dequant(w[i], scales[static_cast<size_t>(n) * groups + g],
             zeros == nullptr ? __float2half(0.f) : zeros[static_cast<size_t>(n) * groups + g], d);
  reinterpret_cast<uint4*>(w16)[i] = make_uint4(as_u32(d[0]), as_u32(d[1]), as_u32(d[2]), as_u32(d[3]));
}

template <class F>
void launch_dequantize(half* w16, const typename F::Chunk* w, const half* scales, const half* zeros, int N, int K,
                       int groups, cudaStream_t s) {
  const long chunks = static_cast<long>(N) * (K / 8);
  const int threads = 256;
  dequantize_kernel<F><<<static_cast<int>((chunks + threads - 1) / threads), threads, 0, s>>>(w16, w, scales, zeros,
                                                                                              N, K, groups);
}

// y = sum over splits of workspace[split] (in split order) + bias.
void splitk_reduce(half* y, const float* workspace, const half* bias, int M, int N, int splits, cudaStream_t s);

// One tile shape of the GEMM: warps along M and N, m16 tiles per warp (MT), n8 tiles per warp (NT), k-tile width.
struct GemmConfig {
  int warps_m, warps_n, mt, nt, bk;
  int bm() const { return warps_m * mt * 16; }
  int bn() const { return warps_n * nt * 8; }
  int threads() const { return warps_m * warps_n * 32; }
};

// The shapes instantiated below, by index (GemmPlan::config).
constexpr GemmConfig kGemmConfigs[] = {
    {1, 4, 2, 4, 32},  {1, 4, 2, 4, 64},  {1, 4, 2, 4, 128},  // BM 32, BN 128
    {2, 4, 2, 4, 32},  {2, 4, 2, 4, 64},                      // BM 64, BN 128
    {2, 4, 4, 4, 32},  {2, 4, 4, 4, 64},                      // BM 128, BN 128
    {1, 2, 2, 4, 64},  {1, 2, 2, 4, 128},                     // BM 32, BN 64
};
constexpr int kGemmConfigCount = sizeof(kGemmConfigs) / sizeof(kGemmConfigs[0]);

struct GemmPlan {
  int config;  // index into kGemmConfigs
  int splits, tiles_per_split;
};

// The plan used by awq_gemm / int8_gemm for this shape.
GemmPlan plan_gemm(int M, int N, int K);
// A plan with a given tile shape, K split until the blocks cover the SMs `coverage` times, each split keeping at
// least `min_tiles_per_split` k-tiles; config -1 if the shape cannot serve K. The kernel check sweeps these.
GemmPlan plan_gemm_with(int M, int N, int K, int config, int coverage, int min_tiles_per_split = 2);
// Bytes of split-K scratch a plan needs.
size_t plan_workspace_bytes(const GemmPlan& p, int M, int N);

template <class F>
void launch_gemm(half* y, const half* x, const typename F::Chunk* w, const half* scales, const half* zeros,
                 const half* bias, float* workspace, int M, int N, int K, int groups, const GemmPlan& p,
                 cudaStream_t s) {
  const GemmConfig& c = kGemmConfigs[p.config];
  const dim3 grid((N + c.bn() - 1) / c.bn(), (M + c.bm() - 1) / c.bm(), p.splits);
#define BARISTA_GEMM_CASE(I, WM, WN, MT, NT, BK)                                                                 \
  case I:                                                                                                         \
    gemm_kernel<F, WM, WN, MT, NT, BK><<<grid, WM * WN * 32, 0, s>>>(y, workspace, x, w, scales, zeros, bias, M, N, \
                                                                      K, groups, p.tiles_per_split);             \
    break;
  switch (p.config) {
    BARISTA_GEMM_CASE(0, 1, 4, 2, 4, 32)
    BARISTA_GEMM_CASE(1, 1, 4, 2, 4, 64)
    BARISTA_GEMM_CASE(2, 1, 4, 2, 4, 128)
    BARISTA_GEMM_CASE(3, 2, 4, 2, 4, 32)
    BARISTA_GEMM_CASE(4, 2, 4, 2, 4, 64)
    BARISTA_GEMM_CASE(5, 2, 4, 4, 4, 32)
    BARISTA_GEMM_CASE(6, 2, 4, 4, 4, 64)
    BARISTA_GEMM_CASE(7, 1, 2, 2, 4, 64)
    BARISTA_GEMM_CASE(8, 1, 2, 2, 4, 128)
    default: return;
  }
#undef BARISTA_GEMM_CASE
  if (p.splits > 1) splitk_reduce(y, workspace, bias, M, N, p.splits, s);
}

template <class F>
void launch_gemm(half* y, const half* x, const typename F::Chunk* w, const half* scales, const half* zeros,
                 const half* bias, float* workspace, int M, int N, int K, int groups, cudaStream_t s) {
  launch_gemm<F>(y, x, w, scales, zeros, bias, workspace, M, N, K, groups, plan_gemm(M, N, K), s);
}

}  // namespace barista::quant
