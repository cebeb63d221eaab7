// What the AWQ and INT8 kernels share outside the templates: the GEMM's tile and split-K plan, the split-K
// reduction and the row-count dispatch.
#include "quantization/quant_common.cuh"

namespace barista::quant {

namespace {

int sm_count() {
  static int count = [] {
    int device = 0, n = 0;
    if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device)
        != cudaSuccess || n <= 0) {
      return 80;
    }
    return n;
  }();
  return count;
}

__global__ void splitk_reduce_kernel(half* __restrict__ y, const float* __restrict__ workspace,
                                     const half* __restrict__ bias, int M, int N, int splits) {
  const long i = (static_cast<long>(blockIdx.x) * blockDim.x + threadIdx.x) * 2;  // two adjacent outputs
  const long total = static_cast<long>(M) * N;
  if (i >= total) return;
  const int n = static_cast<int>(i % N);
  float2 v = make_float2(0.f, 0.f);
  for (int s = 0; s < splits; s++) {
    const float2 p = *reinterpret_cast<const float2*>(workspace + s * total + i);
    v.x += p.x;
    v.y += p.y;
  }
  if (bias != nullptr) {
    v.x += __half2float(bias[n]);
    v.y += __half2float(bias[n + 1]);
  }
  *reinterpret_cast<half2*>(y + i) = __floats2half2_rn(v.x, v.y);
}

}  // namespace

GemmPlan plan_gemm(int M, int N, int K) {
  GemmPlan p{};
  if (M <= 32) {
    p.config = 0, p.bm = 32;
  } else if (M <= 128) {
    p.config = 1, p.bm = 64;
  } else {
    p.config = 2, p.bm = 128;
  }
  p.bn = 128;
  const int tiles = ((N + p.bn - 1) / p.bn) * ((M + p.bm - 1) / p.bm);
  const int k_tiles = K / kBK;
  // Split K until the blocks cover the SMs about twice, each split keeping at least four k-tiles.
  int splits = std::max(1, std::min({2 * sm_count() / tiles, k_tiles / 4, 32}));
  p.tiles_per_split = (k_tiles + splits - 1) / splits;
  p.splits = (k_tiles + p.tiles_per_split - 1) / p.tiles_per_split;
  return p;
}

void splitk_reduce(half* y, const float* workspace, const half* bias, int M, int N, int splits, cudaStream_t s) {
  const long total = static_cast<long>(M) * N / 2;
  const int threads = 256;
  splitk_reduce_kernel<<<static_cast<int>((total + threads - 1) / threads), threads, 0, s>>>(y, workspace, bias, M, N,
                                                                                            splits);
}

size_t gemm_workspace_bytes(int M, int N, int K) {
  if (M <= kGemvMaxRows) return 0;
  const GemmPlan p = plan_gemm(M, N, K);
  return p.splits > 1 ? sizeof(float) * static_cast<size_t>(p.splits) * M * N : 0;
}

const char* kernel_for_rows(int M) { return M <= kGemvMaxRows ? "gemv" : "gemm"; }

}  // namespace barista::quant
