// Block-wide reductions shared by the kernels.
#pragma once

namespace barista {

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

}  // namespace barista
