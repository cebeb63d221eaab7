// What the AWQ and INT8 kernels share outside the templates: the GEMM's tile and split-K plan, the split-K
// reduction and the row-count dispatch.
#include "quantization/quant_common.cuh"

#include <cstdlib>

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

GemmPlan plan_gemm_with(int M, int N, int K, int config, int coverage, int min_tiles_per_split) {
  GemmPlan p{-1, 1, 0};
  if (config < 0 || config >= kGemmConfigCount || K % kGemmConfigs[config].bk != 0) return p;
  const GemmConfig& c = kGemmConfigs[config];
  p.config = config;
  const int tiles = ((N + c.bn() - 1) / c.bn()) * ((M + c.bm() - 1) / c.bm());
  const int k_tiles = K / c.bk;
  const int splits = std::max(1, std::min({coverage * sm_count() / tiles, k_tiles / min_tiles_per_split, 32}));
  p.tiles_per_split = (k_tiles + splits - 1) / splits;
  p.splits = (k_tiles + p.tiles_per_split - 1) / p.tiles_per_split;
  return p;
}

GemmPlan plan_gemm(int M, int N, int K) {
  // The plan measured on the GPU (issue 21's kernel check): 32-wide k-tiles, tile height by rows, K split until the
  // blocks cover the SMs about twice with at least four k-tiles a split. A grid that already covers the SMs once
  // (a wide N, the gate/up projection) gets no split that way, and each of its blocks then walks the whole of K: the
  // sweep (SWEEP=1 scripts/gpu-quant-kernels.sh, docs/performance.md) measured such shapes faster split a few ways,
  // as aiming at four times the SMs gives. The sweep's other shapes stay as they were until it is clean.
  const int config = M <= 32 ? 0 : M <= 128 ? 3 : 5;
  const GemmPlan p = plan_gemm_with(M, N, K, config, 2, 4);
  return p.splits == 1 ? plan_gemm_with(M, N, K, config, 4, 4) : p;
}

size_t plan_workspace_bytes(const GemmPlan& p, int M, int N) {
  return p.splits > 1 ? sizeof(float) * static_cast<size_t>(p.splits) * M * N : 0;
}

void splitk_reduce(half* y, const float* workspace, const half* bias, int M, int N, int splits, cudaStream_t s) {
  const long total = static_cast<long>(M) * N / 2;
  const int threads = 256;
  splitk_reduce_kernel<<<static_cast<int>((total + threads - 1) / threads), threads, 0, s>>>(y, workspace, bias, M, N,
                                                                                            splits);
}

size_t gemm_workspace_bytes(int M, int N, int K) {
  if (M <= kGemvMaxRows) return 0;
  return plan_workspace_bytes(plan_gemm(M, N, K), M, N);
}

int dequant_min_rows() {
  static const int rows = [] {
    const char* v = std::getenv("BARISTA_QUANT_DEQUANT_ROWS");
    return v == nullptr ? kDequantRowsDefault : std::max(0, std::atoi(v));
  }();
  return rows;
}

const char* kernel_for_rows(int M) {
  if (dequant_min_rows() > 0 && M >= dequant_min_rows()) return "dequantize+cublas";
  return M <= kGemvMaxRows ? "gemv" : "gemm";
}

}  // namespace barista::quant
