// fp16 linear for decode steps of a few rows, y [M, N] = x [M, K] . w [N, K]^T (+ bias): the GEMV shape of
// quantization/quant_common.cuh (after llm-awq's GEMV and TensorRT-LLM's weight-only GEMV) with fp16 weights read
// as they are stored, 16 bytes a load. Each block owns a few output columns and walks the whole of K with all of its
// threads, reduced with shuffles and shared memory, so the narrow projections (o, qkv) still spread over the GPU;
// products and sums in fp32, as cuBLAS accumulates.
#include <cuda_fp16.h>

#include "common/gemv.cuh"
#include "common/launch.h"

#include "kernels.h"

namespace barista {
namespace {

constexpr int kThreads = 128;

__device__ __forceinline__ float dot8(uint4 a, uint4 b) {
  const half2* ah = reinterpret_cast<const half2*>(&a);
  const half2* bh = reinterpret_cast<const half2*>(&b);
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const float2 fa = __half22float2(ah[i]), fb = __half22float2(bh[i]);
    s = fmaf(fa.x, fb.x, s);
    s = fmaf(fa.y, fb.y, s);
  }
  return s;
}

template <int ROWS, int COLS>
__global__ void __launch_bounds__(kThreads)
    dense_gemv_kernel(half* __restrict__ y, const half* __restrict__ x, const half* __restrict__ w,
                      const half* __restrict__ bias, int N, int K) {
  const int n0 = blockIdx.x * COLS;
  const int chunks = K / 8;
  float acc[ROWS][COLS] = {};

#pragma unroll 4
  for (int j = threadIdx.x; j < chunks; j += kThreads) {
    uint4 wv[COLS];
#pragma unroll
    for (int c = 0; c < COLS; c++) {
      const int n = min(n0 + c, N - 1);  // a tail column re-reads the last one and is not written
      wv[c] = reinterpret_cast<const uint4*>(w + static_cast<size_t>(n) * K)[j];
    }
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
      const uint4 xv = reinterpret_cast<const uint4*>(x + static_cast<size_t>(r) * K)[j];
#pragma unroll
      for (int c = 0; c < COLS; c++) acc[r][c] += dot8(wv[c], xv);
    }
  }

  gemv_block_store<kThreads, ROWS, COLS>(acc, y, bias, n0, N);
}

template <int ROWS>
void launch_rows(half* y, const half* x, const half* w, const half* bias, int N, int K, cudaStream_t s) {
  // Two columns per block where the output is narrow (more blocks along N), four where it is wide.
  if (N < 4096) {
    dense_gemv_kernel<ROWS, 2><<<(N + 1) / 2, kThreads, 0, s>>>(y, x, w, bias, N, K);
  } else {
    dense_gemv_kernel<ROWS, 4><<<(N + 3) / 4, kThreads, 0, s>>>(y, x, w, bias, N, K);
  }
}

}  // namespace

bool dense_gemv(void* y, const void* x, const void* w, const void* bias, int M, int N, int K, cudaStream_t s) {
  if (M < 1 || M > kDenseGemvMaxRows || N < 1 || K % 8 != 0 || !aligned16({y, x, w})) return false;
  half* yh = static_cast<half*>(y);
  const half* xh = static_cast<const half*>(x);
  const half* wh = static_cast<const half*>(w);
  const half* bh = static_cast<const half*>(bias);
  switch (M) {
    case 1: launch_rows<1>(yh, xh, wh, bh, N, K, s); break;
    case 2: launch_rows<2>(yh, xh, wh, bh, N, K, s); break;
    case 3: launch_rows<3>(yh, xh, wh, bh, N, K, s); break;
    case 4: launch_rows<4>(yh, xh, wh, bh, N, K, s); break;
    case 5: launch_rows<5>(yh, xh, wh, bh, N, K, s); break;
    case 6: launch_rows<6>(yh, xh, wh, bh, N, K, s); break;
    case 7: launch_rows<7>(yh, xh, wh, bh, N, K, s); break;
    default: launch_rows<8>(yh, xh, wh, bh, N, K, s); break;
  }
  return true;
}

}  // namespace barista
