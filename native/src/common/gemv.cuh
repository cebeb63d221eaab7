// The end shared by the GEMV kernels (quantization/quant_common.cuh, dense_gemv_kernels.cu): a block owns COLS
// output columns of ROWS rows, each thread holding its share of every dot product in acc.
#pragma once
#include <cuda_fp16.h>

#include <cstddef>

namespace barista {

// Sums acc over the block (shuffles within each warp, then one shared slot per warp), adds the bias in fp32 and
// rounds once into y [ROWS, N] at columns n0 .. n0 + COLS - 1 (those past N are not written).
template <int THREADS, int ROWS, int COLS>
__device__ __forceinline__ void gemv_block_store(const float (&acc)[ROWS][COLS], half* __restrict__ y,
                                                 const half* __restrict__ bias, int n0, int N) {
  __shared__ float partial[THREADS / 32][ROWS * COLS];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int r = 0; r < ROWS; r++)
#pragma unroll
    for (int c = 0; c < COLS; c++) {
      float v = acc[r][c];
#pragma unroll
      for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
      if (lane == 0) partial[warp][r * COLS + c] = v;
    }
  __syncthreads();
  if (threadIdx.x < ROWS * COLS) {
    const int r = threadIdx.x / COLS, c = threadIdx.x % COLS, n = n0 + c;
    if (n < N) {
      float v = 0.f;
#pragma unroll
      for (int k = 0; k < THREADS / 32; k++) v += partial[k][threadIdx.x];
      if (bias != nullptr) v += __half2float(bias[n]);
      y[static_cast<size_t>(r) * N + n] = __float2half_rn(v);
    }
  }
}

}  // namespace barista
