// Standalone check and benchmark of the quantized linear kernels (native/src/quantization), no torch, no Java.
// Random weights are AWQ-packed and INT8-quantized here on the host in the kernels' device layouts; each GEMV,
// GEMM and dispatching call is compared against the dequantized weight multiplied in fp32 (cuBLAS SGEMM, no TF32)
// by relative Frobenius error, then timed as CUDA graphs of 50 calls beside cuBLAS fp16.
// Build and run: scripts/gpu-quant-kernels.sh (prints PASS/FAIL lines; exit status 1 on any failure).
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "quantization/quant_common.cuh"  // the GEMM plans and launch, for --sweep

using namespace barista::quant;

#define CHECK(call)                                                                                   \
  do {                                                                                                \
    cudaError_t e_ = (call);                                                                          \
    if (e_ != cudaSuccess) {                                                                          \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_));      \
      std::exit(2);                                                                                   \
    }                                                                                                 \
  } while (0)
#define CHECK_BLAS(call)                                                                              \
  do {                                                                                                \
    cublasStatus_t s_ = (call);                                                                       \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                                \
      std::fprintf(stderr, "%s:%d %s: cublas status %d\n", __FILE__, __LINE__, #call, (int)s_);      \
      std::exit(2);                                                                                   \
    }                                                                                                 \
  } while (0)

namespace {

constexpr int kGroup = 128;
constexpr int kOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};  // nibble slot -> input offset within a word

struct Shape {
  const char* name;
  int K, N;
  bool bias;
};

// The r1-distill-1.5b linears (hidden 1536, 12 heads, 2 KV heads, head dim 128, intermediate 8960).
const Shape kShapes[] = {{"qkv", 1536, 2048, true}, {"o", 1536, 1536, false}, {"gate_up", 1536, 17920, false},
                         {"down", 8960, 1536, false}};

template <class T>
T* upload(const std::vector<T>& v) {
  T* d = nullptr;
  CHECK(cudaMalloc(&d, v.size() * sizeof(T) + 16));
  CHECK(cudaMemcpy(d, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

struct Weights {
  int K, N;
  // AWQ
  uint32_t* qweight;
  half* awq_scales;
  half* awq_zeros;
  float* awq_ref;  // [N, K] fp32 dequantized
  // INT8, per channel
  int8_t* i8;
  half* i8_scales;
  float* i8_ref;
  // INT8 with 128-input groups
  half* i8g_scales;
  float* i8g_ref;
  half* bias;
  half* w16;  // the INT8 reference weight in fp16, for cuBLAS timing
};

Weights make_weights(const Shape& s, std::mt19937& rng) {
  const int K = s.K, N = s.N, G = K / kGroup;
  std::uniform_int_distribution<int> nib(0, 15), byte(-128, 127);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f), unit(-1.f, 1.f);
  Weights w{};
  w.K = K, w.N = N;
  std::vector<uint32_t> packed(static_cast<size_t>(N) * K / 8);
  std::vector<half> sc(static_cast<size_t>(N) * G), zs(static_cast<size_t>(N) * G);
  std::vector<float> ref(static_cast<size_t>(N) * K);
  for (int n = 0; n < N; n++) {
    for (int g = 0; g < G; g++) {
      sc[n * G + g] = __float2half(scale(rng));
      zs[n * G + g] = __float2half(static_cast<float>(nib(rng)));
    }
    for (int j = 0; j < K / 8; j++) {
      uint32_t word = 0;
      for (int slot = 0; slot < 8; slot++) {
        const int k = 8 * j + kOrder[slot], q = nib(rng);
        word |= static_cast<uint32_t>(q) << (4 * slot);
        const int g = k / kGroup;
        ref[static_cast<size_t>(n) * K + k] =
            (q - __half2float(zs[n * G + g])) * __half2float(sc[n * G + g]);
      }
      packed[static_cast<size_t>(n) * (K / 8) + j] = word;
    }
  }
  w.qweight = upload(packed);
  w.awq_scales = upload(sc);
  w.awq_zeros = upload(zs);
  w.awq_ref = upload(ref);

  std::vector<int8_t> q(static_cast<size_t>(N) * K);
  std::vector<half> s1(N), sg(static_cast<size_t>(N) * G), w16(static_cast<size_t>(N) * K);
  std::vector<float> ref1(q.size()), refg(q.size());
  for (int n = 0; n < N; n++) {
    s1[n] = __float2half(scale(rng) / 8);
    for (int g = 0; g < G; g++) sg[n * G + g] = __float2half(scale(rng) / 8);
    for (int k = 0; k < K; k++) {
      const size_t i = static_cast<size_t>(n) * K + k;
      q[i] = static_cast<int8_t>(byte(rng));
      ref1[i] = q[i] * __half2float(s1[n]);
      refg[i] = q[i] * __half2float(sg[n * G + k / kGroup]);
      w16[i] = __float2half(ref1[i]);
    }
  }
  w.i8 = upload(q);
  w.i8_scales = upload(s1);
  w.i8_ref = upload(ref1);
  w.i8g_scales = upload(sg);
  w.i8g_ref = upload(refg);
  w.w16 = upload(w16);
  std::vector<half> b(N);
  for (int n = 0; n < N; n++) b[n] = __float2half(unit(rng));
  w.bias = upload(b);
  return w;
}

void free_weights(Weights& w) {
  for (void* p : {(void*)w.qweight, (void*)w.awq_scales, (void*)w.awq_zeros, (void*)w.awq_ref, (void*)w.i8,
                  (void*)w.i8_scales, (void*)w.i8_ref, (void*)w.i8g_scales, (void*)w.i8g_ref, (void*)w.bias,
                  (void*)w.w16}) {
    cudaFree(p);
  }
}

__global__ void half_to_float(float* out, const half* in, size_t n) {
  size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = __half2float(in[i]);
}

__global__ void add_bias_rows(float* y, const half* bias, int M, int N) {
  size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i < static_cast<size_t>(M) * N) y[i] += __half2float(bias[i % N]);
}

cublasHandle_t blas;

// y32 [M, N] = x32 [M, K] wref^T [K, N] (+ bias) in fp32.
void reference(float* y32, const float* x32, const float* wref, const half* bias, int M, int N, int K) {
  const float one = 1.f, zero = 0.f;
  // On the legacy stream with the bias kernel and compare's copies: cublas_fp16 leaves the handle on the test's
  // non-blocking stream, and a reference GEMM there raced the bias added after it (the sweep's INT8 qkv "failures").
  CHECK_BLAS(cublasSetStream(blas, 0));
  CHECK_BLAS(cublasSgemm(blas, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, wref, K, x32, K, &zero, y32, N));
  if (bias != nullptr) add_bias_rows<<<(M * N + 255) / 256, 256>>>(y32, bias, M, N);
  CHECK(cudaGetLastError());
}

void cublas_fp16(half* y, const half* x, const half* w16, int M, int N, int K, cudaStream_t s) {
  const float one = 1.f, zero = 0.f;
  CHECK_BLAS(cublasSetStream(blas, s));
  CHECK_BLAS(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, w16, CUDA_R_16F, K, x, CUDA_R_16F, K, &zero,
                          y, CUDA_R_16F, N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

struct Err {
  double rel, max_abs;
  bool finite;
};

Err compare(const half* y, const float* y32, int M, int N) {
  const size_t n = static_cast<size_t>(M) * N;
  std::vector<half> a(n);
  std::vector<float> b(n);
  CHECK(cudaMemcpy(a.data(), y, n * sizeof(half), cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(b.data(), y32, n * sizeof(float), cudaMemcpyDeviceToHost));
  double num = 0, den = 0, mx = 0;
  bool finite = true;
  for (size_t i = 0; i < n; i++) {
    const double v = __half2float(a[i]), d = v - b[i];
    if (!std::isfinite(v)) finite = false;
    num += d * d;
    den += static_cast<double>(b[i]) * b[i];
    mx = std::max(mx, std::fabs(d));
  }
  return {std::sqrt(num / std::max(den, 1e-30)), mx, finite};
}

int failures = 0, checks = 0;

void verdict(const char* what, const Shape& s, int M, const Err& e, bool deterministic) {
  const bool ok = e.finite && e.rel <= 1e-2 && deterministic;
  checks++;
  if (!ok) failures++;
  std::printf("%s %-18s %-8s rows %4d  rel err %.2e  max abs %.2e%s\n", ok ? "PASS" : "FAIL", what, s.name, M, e.rel,
              e.max_abs, deterministic ? "" : "  (two calls differ)");
}

bool same(const half* a, const half* b, size_t n) {
  std::vector<uint16_t> x(n), y(n);
  CHECK(cudaMemcpy(x.data(), a, n * 2, cudaMemcpyDeviceToHost));
  CHECK(cudaMemcpy(y.data(), b, n * 2, cudaMemcpyDeviceToHost));
  return std::memcmp(x.data(), y.data(), n * 2) == 0;
}

// Microseconds per call of fn, timed as a CUDA graph of 50 calls replayed several times.
template <class Fn>
double time_graph(Fn fn, cudaStream_t s) {
  fn();  // warm-up outside the capture (cuBLAS picks its kernel, modules load)
  CHECK(cudaStreamSynchronize(s));
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < 50; i++) fn();
  CHECK(cudaStreamEndCapture(s, &graph));
  CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CHECK(cudaGraphLaunch(exec, s));
  CHECK(cudaStreamSynchronize(s));
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  const int reps = 10;
  CHECK(cudaEventRecord(a, s));
  for (int i = 0; i < reps; i++) CHECK(cudaGraphLaunch(exec, s));
  CHECK(cudaEventRecord(b, s));
  CHECK(cudaEventSynchronize(b));
  float ms = 0;
  CHECK(cudaEventElapsedTime(&ms, a, b));
  CHECK(cudaGraphExecDestroy(exec));
  CHECK(cudaGraphDestroy(graph));
  CHECK(cudaEventDestroy(a));
  CHECK(cudaEventDestroy(b));
  return 1000.0 * ms / (reps * 50);
}

// --sweep: every GEMM tile shape and split-K coverage on every shape at decode-sized row counts, each checked
// (relative error <= 1e-2) and timed; prints the fastest per (shape, rows) beside the default plan and cuBLAS.
void sweep(const Shape& s, Weights& w, const half* x, const float* x32, half* y, float* y32, float* workspace,
           size_t ws_bytes, cudaStream_t stream) {
  const int K = s.K, N = s.N;
  const half* bias = s.bias ? w.bias : nullptr;
  for (int M : {8, 16, 32, 64, 256}) {
    const double t16 = time_graph([&] { cublas_fp16(y, x, w.w16, M, N, K, stream); }, stream);
    for (int fmt = 0; fmt < 2; fmt++) {
      reference(y32, x32, fmt == 0 ? w.awq_ref : w.i8_ref, bias, M, N, K);
      auto run = [&](const GemmPlan& p) {
        if (fmt == 0) {
          launch_gemm<AwqFormat>(y, x, w.qweight, w.awq_scales, w.awq_zeros, bias, workspace, M, N, K, K / kGroup, p,
                                 stream);
        } else {
          launch_gemm<Int8Format>(y, x, reinterpret_cast<const uint2*>(w.i8), w.i8_scales, nullptr, bias, workspace,
                                  M, N, K, 1, p, stream);
        }
      };
      const GemmPlan def = plan_gemm(M, N, K);
      const double tdef = time_graph([&] { run(def); }, stream);
      double best = 1e30;
      int best_config = -1, best_cov = 0, best_splits = 0;
      for (int config = 0; config < kGemmConfigCount; config++) {
        for (int cov : {1, 2, 4}) {
          const GemmPlan p = plan_gemm_with(M, N, K, config, cov);
          if (p.config < 0 || plan_workspace_bytes(p, M, N) > ws_bytes) continue;
          run(p);
          CHECK(cudaStreamSynchronize(stream));
          const Err e = compare(y, y32, M, N);
          checks++;
          if (!(e.finite && e.rel <= 1e-2)) {
            failures++;
            std::printf("FAIL sweep %s %s rows %d config %d coverage %d: rel err %.2e\n", fmt == 0 ? "awq" : "int8",
                        s.name, M, config, cov, e.rel);
            continue;
          }
          const double t = time_graph([&] { run(p); }, stream);
          if (t < best) best = t, best_config = config, best_cov = cov, best_splits = p.splits;
        }
      }
      const GemmConfig& c = kGemmConfigs[best_config < 0 ? 0 : best_config];
      std::printf("sweep %-4s %-8s rows %3d  cuBLAS fp16 %7.2f us  default (cfg %d, %d splits) %7.2f us  "
                  "best cfg %d (BM %d BN %d BK %d) coverage %d (%d splits) %7.2f us  best/fp16 %.2fx\n",
                  fmt == 0 ? "awq" : "int8", s.name, M, t16, def.config, def.splits, tdef, best_config, c.bm(), c.bn(),
                  c.bk, best_cov, best_splits, best, t16 / best);
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool bench = !(argc > 1 && std::strcmp(argv[1], "--check-only") == 0);
  const bool sweeping = argc > 1 && std::strcmp(argv[1], "--sweep") == 0;
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (sm_%d%d, %d SMs)\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
  CHECK_BLAS(cublasCreate(&blas));
  CHECK_BLAS(cublasSetMathMode(blas, CUBLAS_PEDANTIC_MATH));  // fp32 reference without TF32
  void* blas_workspace;  // so that cuBLAS allocates nothing while a graph is captured
  CHECK(cudaMalloc(&blas_workspace, 64 << 20));
  CHECK_BLAS(cublasSetWorkspace(blas, blas_workspace, 64 << 20));
  cudaStream_t stream;
  CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  std::mt19937 rng(1234);

  const int max_rows = 512, max_k = 8960, max_n = 17920;
  std::vector<half> xh(static_cast<size_t>(max_rows) * max_k);
  std::uniform_real_distribution<float> unit(-1.f, 1.f);
  for (auto& v : xh) v = __float2half(unit(rng));
  half* x = upload(xh);
  float* x32;
  CHECK(cudaMalloc(&x32, xh.size() * sizeof(float)));
  half_to_float<<<(xh.size() + 255) / 256, 256>>>(x32, x, xh.size());
  half *y, *y2;
  float *y32, *workspace;
  CHECK(cudaMalloc(&y, sizeof(half) * max_rows * max_n));
  CHECK(cudaMalloc(&y2, sizeof(half) * max_rows * max_n));
  CHECK(cudaMalloc(&y32, sizeof(float) * max_rows * max_n));
  size_t ws_bytes = 16;
  for (const Shape& s : kShapes)
    for (int m = 1; m <= max_rows; m++) ws_bytes = std::max(ws_bytes, gemm_workspace_bytes(m, s.N, s.K));
  if (sweeping) ws_bytes = std::max(ws_bytes, size_t{64} << 20);  // the sweep skips plans needing more
  CHECK(cudaMalloc(&workspace, ws_bytes));
  std::printf("split-K workspace: %zu bytes at most\n", ws_bytes);
  size_t max_weights = 0;  // the dequantize + cuBLAS path's fp16 weight scratch
  for (const Shape& s : kShapes) max_weights = std::max(max_weights, static_cast<size_t>(s.N) * s.K);
  half* wdq;
  CHECK(cudaMalloc(&wdq, sizeof(half) * max_weights));

  const int check_rows[] = {1, 2, 7, 8, 9, 64, 512};
  const int bench_rows[] = {1, 2, 4, 8, 16, 32, 64, 256};
  std::vector<std::string> table;
  for (const Shape& s : kShapes) {
    Weights w = make_weights(s, rng);
    const int K = s.K, N = s.N;
    const half* bias = s.bias ? w.bias : nullptr;
    if (sweeping) {
      sweep(s, w, x, x32, y, y32, workspace, ws_bytes, stream);
      free_weights(w);
      continue;
    }
    // The dequantized weight of the dequantize + cuBLAS path (BARISTA_QUANT_DEQUANT_ROWS) against the float
    // reference weight ("rows" here: the weight's N rows), then that path's output at many rows.
    awq_dequantize(wdq, w.qweight, w.awq_scales, w.awq_zeros, N, K, kGroup, stream);
    CHECK(cudaStreamSynchronize(stream));
    verdict("awq dequantize", s, N, compare(wdq, w.awq_ref, N, K), true);
    reference(y32, x32, w.awq_ref, nullptr, 512, N, K);
    cublas_fp16(y, x, wdq, 512, N, K, stream);
    CHECK(cudaStreamSynchronize(stream));
    verdict("awq dequant+cuBLAS", s, 512, compare(y, y32, 512, N), true);
    int8_dequantize(wdq, w.i8, w.i8_scales, N, K, 1, stream);
    CHECK(cudaStreamSynchronize(stream));
    verdict("int8 dequantize", s, N, compare(wdq, w.i8_ref, N, K), true);
    int8_dequantize(wdq, w.i8, w.i8g_scales, N, K, K / kGroup, stream);
    CHECK(cudaStreamSynchronize(stream));
    verdict("int8 dequant grp128", s, N, compare(wdq, w.i8g_ref, N, K), true);
    for (int M : check_rows) {
      const size_t n = static_cast<size_t>(M) * N;
      // AWQ
      reference(y32, x32, w.awq_ref, bias, M, N, K);
      if (M <= kGemvMaxRows) {
        awq_gemv(y, x, w.qweight, w.awq_scales, w.awq_zeros, bias, M, N, K, kGroup, stream);
        CHECK(cudaStreamSynchronize(stream));
        verdict("awq gemv", s, M, compare(y, y32, M, N), true);
      }
      awq_gemm(y, x, w.qweight, w.awq_scales, w.awq_zeros, bias, workspace, M, N, K, kGroup, stream);
      CHECK(cudaStreamSynchronize(stream));
      verdict("awq gemm", s, M, compare(y, y32, M, N), true);
      awq_linear(y, x, w.qweight, w.awq_scales, w.awq_zeros, bias, workspace, M, N, K, kGroup, stream);
      awq_linear(y2, x, w.qweight, w.awq_scales, w.awq_zeros, bias, workspace, M, N, K, kGroup, stream);
      CHECK(cudaStreamSynchronize(stream));
      verdict("awq linear", s, M, compare(y, y32, M, N), same(y, y2, n));
      // INT8 per channel
      reference(y32, x32, w.i8_ref, bias, M, N, K);
      if (M <= kGemvMaxRows) {
        int8_gemv(y, x, w.i8, w.i8_scales, bias, M, N, K, 1, stream);
        CHECK(cudaStreamSynchronize(stream));
        verdict("int8 gemv", s, M, compare(y, y32, M, N), true);
      }
      int8_gemm(y, x, w.i8, w.i8_scales, bias, workspace, M, N, K, 1, stream);
      CHECK(cudaStreamSynchronize(stream));
      verdict("int8 gemm", s, M, compare(y, y32, M, N), true);
      int8_linear(y, x, w.i8, w.i8_scales, bias, workspace, M, N, K, 1, stream);
      int8_linear(y2, x, w.i8, w.i8_scales, bias, workspace, M, N, K, 1, stream);
      CHECK(cudaStreamSynchronize(stream));
      verdict("int8 linear", s, M, compare(y, y32, M, N), same(y, y2, n));
      // INT8 with grouped scales
      reference(y32, x32, w.i8g_ref, bias, M, N, K);
      int8_linear(y, x, w.i8, w.i8g_scales, bias, workspace, M, N, K, K / kGroup, stream);
      CHECK(cudaStreamSynchronize(stream));
      verdict("int8 linear grp128", s, M, compare(y, y32, M, N), true);
      CHECK(cudaGetLastError());
    }
    if (bench) {
      for (int M : bench_rows) {
        char line[512];
        const double t16 = time_graph([&] { cublas_fp16(y, x, w.w16, M, N, K, stream); }, stream);
        const double ta = time_graph([&] {
          awq_linear(y, x, w.qweight, w.awq_scales, w.awq_zeros, bias, workspace, M, N, K, kGroup, stream);
        }, stream);
        const double ti = time_graph([&] {
          int8_linear(y, x, w.i8, w.i8_scales, bias, workspace, M, N, K, 1, stream);
        }, stream);
        // the other kernel shape at the same rows, to place the GEMV/GEMM switch
        double ta_alt = -1, ti_alt = -1;
        if (M <= 32) {
          ta_alt = time_graph([&] {
            if (M <= kGemvMaxRows) {
              awq_gemm(y, x, w.qweight, w.awq_scales, w.awq_zeros, bias, workspace, M, N, K, kGroup, stream);
            } else {
              awq_gemv(y, x, w.qweight, w.awq_scales, w.awq_zeros, bias, std::min(M, 8), N, K, kGroup, stream);
            }
          }, stream);
          ti_alt = time_graph([&] {
            if (M <= kGemvMaxRows) {
              int8_gemm(y, x, w.i8, w.i8_scales, bias, workspace, M, N, K, 1, stream);
            } else {
              int8_gemv(y, x, w.i8, w.i8_scales, bias, std::min(M, 8), N, K, 1, stream);
            }
          }, stream);
        }
        // the dequantize + cuBLAS path (BARISTA_QUANT_DEQUANT_ROWS) at the same rows: AWQ's weight, INT8's alike
        const double tdq = M < 16 ? -1 : time_graph([&] {
          awq_dequantize(wdq, w.qweight, w.awq_scales, w.awq_zeros, N, K, kGroup, stream);
          cublas_fp16(y, x, wdq, M, N, K, stream);
        }, stream);
        const double tdi = M < 16 ? -1 : time_graph([&] {
          int8_dequantize(wdq, w.i8, w.i8_scales, N, K, 1, stream);
          cublas_fp16(y, x, wdq, M, N, K, stream);
        }, stream);
        std::snprintf(line, sizeof line,
                      "%-8s %5d x %5d  rows %3d  fp16 cuBLAS %8.2f us  awq %8.2f us (%s; other: %8.2f; dequant+cuBLAS "
                      "%8.2f)  int8 %8.2f us (other: %8.2f; dequant+cuBLAS %8.2f)  awq/fp16 %.2fx  int8/fp16 %.2fx",
                      s.name, K, N, M, t16, ta, kernel_for_rows(M), ta_alt, tdq, ti, ti_alt, tdi, t16 / ta, t16 / ti);
        table.push_back(line);
      }
    }
    free_weights(w);
  }
  if (bench) {
    std::printf("\nmicroseconds per call, CUDA graph of 50 calls (speedup = fp16 time / quantized time; 'other' is "
                "the GEMM at <= %d rows and an 8-row GEMV above, -1: not timed)\n", kGemvMaxRows);
    for (const auto& l : table) std::printf("%s\n", l.c_str());
  }
  std::printf("\n%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
