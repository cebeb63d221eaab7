// Standalone check and benchmark of the paged attention kernels (no torch, no Java): random fp16 caches in
// shuffled blocks, the work list built as barista.engine.cuda.AttentionWork builds it, outputs against a float64
// host reference (sampled rows for long prompts) and against the CUDA-core kernel; then timings.
// Build and run: scripts/gpu-attention-check.sh
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "attention/attention.h"
#include "kernels.h"

using namespace barista;

#define CK(x)                                                                                   \
  do {                                                                                          \
    cudaError_t e = (x);                                                                        \
    if (e != cudaSuccess) {                                                                     \
      std::printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e), __FILE__, __LINE__);       \
      std::exit(1);                                                                             \
    }                                                                                           \
  } while (0)

struct Seq {
  int q_len, ctx;
};

// The host's work list (mirrors AttentionWork.java).
constexpr int kMinChunkKeys = 128, kRowsMinChunkKeys = 2048, kMaxChunks = kAttentionMaxChunks;
static std::vector<int32_t> build_work(const std::vector<Seq>& seqs, int group, int kv_heads, int target,
                                       int* slots_used) {
  struct Tile { int seq, kvh, r0, r1, keys, q_start; };
  std::vector<Tile> tiles;
  int q_start = 0;
  long sum_keys = 0;
  for (int s = 0; s < (int) seqs.size(); s++) {
    const int rows = seqs[s].q_len * group;
    for (int r0 = 0; r0 < rows; r0 += kAttentionTileRows) {
      const int r1 = std::min(r0 + kAttentionTileRows, rows);
      const int keys = seqs[s].ctx - seqs[s].q_len + (r1 - 1) / group + 1;
      for (int h = 0; h < kv_heads; h++) {
        tiles.push_back({s, h, r0, r1, keys, q_start});
        sum_keys += keys;
      }
    }
    q_start += seqs[s].q_len;
  }
  std::stable_sort(tiles.begin(), tiles.end(), [](const Tile& a, const Tile& b) { return a.keys > b.keys; });
  long chunk = 1L << 30;
  if ((int) tiles.size() < target / 2) {
    chunk = std::max<long>(kMinChunkKeys, (sum_keys + target - 1) / target);
    chunk = (chunk + kAttentionTileKeys - 1) / kAttentionTileKeys * kAttentionTileKeys;
  }
  std::vector<int32_t> w(kAttentionWorkHeader, 0);
  int items = 0, slot = 0;
  for (const Tile& t : tiles) {
    const long tile_chunk = t.r1 - t.r0 > kAttentionDecodeRows ? std::max<long>(chunk, kRowsMinChunkKeys) : chunk;
    int n = (int) std::max<long>(1, (t.keys + tile_chunk - 1) / tile_chunk);
    n = std::min(n, kMaxChunks);
    const int each = n == 1 ? t.keys
                            : (int) (((t.keys + n - 1) / n + kAttentionTileKeys - 1) / kAttentionTileKeys
                                     * kAttentionTileKeys);
    n = each == 0 ? 1 : (t.keys + each - 1) / each;
    if (n < 1) n = 1;
    for (int c = 0; c < n; c++) {
      const int kv0 = n == 1 ? 0 : c * each, kv1 = n == 1 ? t.keys : std::min(t.keys, (c + 1) * each);
      int32_t it[12] = {t.seq, t.kvh, t.r0, t.r1, kv0, kv1, t.q_start, seqs[t.seq].q_len, seqs[t.seq].ctx,
                        n == 1 ? -1 : slot + c, n > 1 ? n : 0, slot};
      w.insert(w.end(), it, it + 12);
      items++;
    }
    if (n > 1) slot += n;
  }
  w[0] = items;
  *slots_used = slot;
  return w;
}

struct Problem {
  int heads, kv_heads, D, block_size = 16;
  std::vector<Seq> seqs;
  int max_blocks, total_blocks, rows;
  std::vector<__half> q, kc, vc;
  std::vector<int32_t> tables;
  std::mt19937 rng{1234};

  size_t q_elems, cache_elems;
  bool host_data;

  Problem(int h, int kv, int d, std::vector<Seq> s, bool host = true)
      : heads(h), kv_heads(kv), D(d), seqs(std::move(s)), host_data(host) {
    int max_ctx = 0;
    rows = 0;
    for (auto& x : seqs) {
      max_ctx = std::max(max_ctx, x.ctx);
      rows += x.q_len;
    }
    max_blocks = (max_ctx + block_size - 1) / block_size + 1;
    total_blocks = (int) seqs.size() * max_blocks + 3;
    std::normal_distribution<float> nd(0.f, 1.f);
    std::uniform_real_distribution<float> ud(-1.f, 1.f);
    q_elems = (size_t) rows * heads * D;
    cache_elems = (size_t) total_blocks * block_size * kv_heads * D;
    if (host_data) {  // benchmarks fill on the device instead (hundreds of MB)
      q.resize(q_elems);
      for (auto& x : q) x = __float2half(nd(rng));
      kc.resize(cache_elems);
      vc.resize(cache_elems);
      for (auto& x : kc) x = __float2half(nd(rng));
      for (auto& x : vc) x = __float2half(ud(rng));
    }
    std::vector<int32_t> ids(total_blocks);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng);  // shuffled blocks: a table is no range
    tables.assign((size_t) seqs.size() * max_blocks, 0);
    for (size_t s = 0, k = 0; s < seqs.size(); s++)
      for (int b = 0; b < max_blocks; b++) tables[s * max_blocks + b] = ids[k++];
  }

  // float64 softmax(q k^T * scale) v for one (row, head).
  void reference(int row, int head, double* out) const {
    int s = 0, start = 0;
    while (start + seqs[s].q_len <= row) start += seqs[s++].q_len;
    const int pos = seqs[s].ctx - seqs[s].q_len + (row - start);
    const int kvh = head / (heads / kv_heads);
    const double scale = 1.0 / std::sqrt((double) D);
    std::vector<double> p(pos + 1);
    double mx = -1e300;
    for (int j = 0; j <= pos; j++) {
      const long slot = (long) tables[(size_t) s * max_blocks + j / block_size] * block_size + j % block_size;
      double dot = 0;
      for (int d = 0; d < D; d++)
        dot += (double) __half2float(q[((size_t) row * heads + head) * D + d])
               * __half2float(kc[(slot * kv_heads + kvh) * D + d]);
      p[j] = dot * scale;
      mx = std::max(mx, p[j]);
    }
    double sum = 0;
    for (auto& x : p) sum += (x = std::exp(x - mx));
    for (int d = 0; d < D; d++) out[d] = 0;
    for (int j = 0; j <= pos; j++) {
      const long slot = (long) tables[(size_t) s * max_blocks + j / block_size] * block_size + j % block_size;
      for (int d = 0; d < D; d++) out[d] += p[j] / sum * __half2float(vc[(slot * kv_heads + kvh) * D + d]);
    }
  }
};

__global__ void fill(__half* x, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x) {
    uint32_t h = (uint32_t) i * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    x[i] = __float2half((h & 0xffff) / 32768.f - 1.f);
  }
}

struct Device {
  __half *q, *kc, *vc, *out, *out_old;
  int32_t *tables, *work, *row_seq, *ctx_lens;
  float* scratch;
  int32_t* counters;
  int max_items, items;
  cudaStream_t stream;

  Device(const Problem& p, int target) {
    CK(cudaStreamCreate(&stream));
    CK(cudaMalloc(&q, p.q_elems * 2));
    CK(cudaMalloc(&kc, p.cache_elems * 2));
    CK(cudaMalloc(&vc, p.cache_elems * 2));
    CK(cudaMalloc(&out, p.q_elems * 2));
    CK(cudaMalloc(&out_old, p.q_elems * 2));
    if (p.host_data) {
      CK(cudaMemcpy(q, p.q.data(), p.q_elems * 2, cudaMemcpyHostToDevice));
      CK(cudaMemcpy(kc, p.kc.data(), p.cache_elems * 2, cudaMemcpyHostToDevice));
      CK(cudaMemcpy(vc, p.vc.data(), p.cache_elems * 2, cudaMemcpyHostToDevice));
    } else {
      fill<<<1024, 256>>>(q, p.q_elems, 1);
      fill<<<1024, 256>>>(kc, p.cache_elems, 2);
      fill<<<1024, 256>>>(vc, p.cache_elems, 3);
      CK(cudaDeviceSynchronize());
    }
    CK(cudaMalloc(&tables, p.tables.size() * 4));
    CK(cudaMemcpy(tables, p.tables.data(), p.tables.size() * 4, cudaMemcpyHostToDevice));
    int slots = 0;
    std::vector<int32_t> w = build_work(p.seqs, p.heads / p.kv_heads, p.kv_heads, target, &slots);
    items = w[0];
    max_items = items + 17;  // a graph's bound is larger than the count: the extra blocks must do nothing
    w.resize(kAttentionWorkHeader + 12 * max_items, 0);
    CK(cudaMalloc(&work, w.size() * 4));
    CK(cudaMemcpy(work, w.data(), w.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMalloc(&scratch, (size_t) std::max(slots, 1) * kAttentionTileRows * (p.D + 2) * 4));
    CK(cudaMalloc(&counters, (size_t) std::max(slots, 1) * 4));
    CK(cudaMemset(counters, 0, (size_t) std::max(slots, 1) * 4));
    // The CUDA-core kernel's per-row inputs.
    std::vector<int32_t> rs, cl;
    for (int s = 0; s < (int) p.seqs.size(); s++)
      for (int i = 0; i < p.seqs[s].q_len; i++) {
        rs.push_back(s);
        cl.push_back(p.seqs[s].ctx - p.seqs[s].q_len + i + 1);
      }
    CK(cudaMalloc(&row_seq, rs.size() * 4));
    CK(cudaMalloc(&ctx_lens, cl.size() * 4));
    CK(cudaMemcpy(row_seq, rs.data(), rs.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(ctx_lens, cl.data(), cl.size() * 4, cudaMemcpyHostToDevice));
  }
  void run_tc(const Problem& p) {
    paged_attention_tc(out, q, kc, vc, tables, work, scratch, counters, max_items, p.heads, p.kv_heads, p.D, p.max_blocks,
                       p.block_size, 1.f / std::sqrt((float) p.D), stream);
  }
  void run_old(const Problem& p) {
    paged_attention(DType::kHalf, out_old, q, kc, vc, tables, row_seq, ctx_lens, p.rows, p.heads, p.kv_heads, p.D,
                    p.max_blocks, p.block_size, 1.f / std::sqrt((float) p.D), stream);
  }
  ~Device() {
    for (void* x : {(void*) q, (void*) kc, (void*) vc, (void*) out, (void*) out_old, (void*) tables, (void*) work,
                    (void*) row_seq, (void*) ctx_lens, (void*) scratch, (void*) counters})
      cudaFree(x);
    cudaStreamDestroy(stream);
  }
};

static int failures = 0, checks = 0;

static void check_case(const char* name, int heads, int kv, int D, std::vector<Seq> seqs, int target,
                       int sample_rows = 0) {
  Problem p(heads, kv, D, std::move(seqs));
  Device dev(p, target);
  CK(cudaMemset(dev.out, 0xff, p.q.size() * 2));  // NaNs wherever the kernel fails to write
  dev.run_tc(p);
  CK(cudaMemset(dev.out, 0xff, p.q.size() * 2));
  dev.run_tc(p);  // again, as a graph replays: each split's counter must be back at zero
  dev.run_old(p);
  CK(cudaStreamSynchronize(dev.stream));
  std::vector<__half> got(p.q.size()), old(p.q.size());
  CK(cudaMemcpy(got.data(), dev.out, got.size() * 2, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(old.data(), dev.out_old, old.size() * 2, cudaMemcpyDeviceToHost));
  std::vector<int> rows;
  if (sample_rows == 0 || sample_rows >= p.rows) {
    for (int r = 0; r < p.rows; r++) rows.push_back(r);
  } else {
    std::mt19937 rng(7);
    rows.push_back(0);
    rows.push_back(p.rows - 1);
    for (int i = 0; i < sample_rows; i++) rows.push_back((int) (rng() % p.rows));
  }
  double max_ref = 0, max_old = 0;
  std::vector<double> ref(D);
  for (int r : rows)
    for (int h = 0; h < heads; h++) {
      p.reference(r, h, ref.data());
      for (int d = 0; d < D; d++) {
        const size_t i = ((size_t) r * heads + h) * D + d;
        const double g = __half2float(got[i]);
        const double e = std::isnan(g) ? 1e9 : std::fabs(g - ref[d]);
        max_ref = std::max(max_ref, e);
        max_old = std::max(max_old, std::isnan(g) ? 1e9 : std::fabs(g - __half2float(old[i])));
      }
    }
  const bool ok = max_ref <= 2e-3 && max_old <= 2e-3;
  checks++;
  if (!ok) failures++;
  std::printf("%s %-58s items %4d  max|tc-ref| %.2e  max|tc-cudacore| %.2e\n", ok ? "PASS" : "FAIL", name,
              dev.items, max_ref, max_old);
}

static float time_ms(Device& dev, const Problem& p, bool tc, int iters) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int i = 0; i < 3; i++) tc ? dev.run_tc(p) : dev.run_old(p);
  CK(cudaEventRecord(a, dev.stream));
  for (int i = 0; i < iters; i++) tc ? dev.run_tc(p) : dev.run_old(p);
  CK(cudaEventRecord(b, dev.stream));
  CK(cudaEventSynchronize(b));
  float ms;
  CK(cudaEventElapsedTime(&ms, a, b));
  return ms / iters;
}

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool bench_too = mode != "--no-bench", checks_too = mode != "--bench-only";
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  const int target = 4 * prop.multiProcessorCount;
  std::printf("device %s, %d SMs, split target %d blocks%s\n", prop.name, prop.multiProcessorCount, target,
              std::getenv("BARISTA_ATTENTION_SYNC") ? ", BARISTA_ATTENTION_SYNC set" : "");
  // Correctness: decode contexts around block and tile edges, GQA 6 (r1) and 1, head dims, chunks.
  if (checks_too) {
  for (int ctx : {1, 15, 16, 17, 63, 64, 65, 300, 4096, 16384}) {
    char name[96];
    std::snprintf(name, sizeof name, "decode ctx %d, 12/2 heads, D 128", ctx);
    check_case(name, 12, 2, 128, {{1, ctx}}, target);
    std::snprintf(name, sizeof name, "decode ctx %d, 12/2 heads, D 128, no split", ctx);
    check_case(name, 12, 2, 128, {{1, ctx}}, 1);
  }
  check_case("decode batch of 37 contexts 1..3000, GQA 1 (8/8 heads)", 8, 8, 128,
             [] { std::vector<Seq> v; for (int i = 0; i < 37; i++) v.push_back({1, 1 + i * 81}); return v; }(),
             target);
  check_case("prompt of 300 tokens, 12/2 heads", 12, 2, 128, {{300, 300}}, target);
  check_case("prompt of 300 tokens, 12/2 heads, no split", 12, 2, 128, {{300, 300}}, 1);
  check_case("chunk of 57 after a 143-token cached prefix", 12, 2, 128, {{57, 200}}, target);
  check_case("prompt of 17, GQA 1 (4/4 heads), D 64", 4, 4, 64, {{17, 17}}, target);
  check_case("mixed: 3 decodes, a chunk, a prompt, D 64", 12, 2, 64, {{1, 40}, {33, 97}, {1, 1}, {70, 70}, {1, 500}},
             target);
  check_case("mixed, D 32 (8/2 heads)", 8, 2, 32, {{1, 40}, {33, 97}, {5, 5}}, target);
  check_case("mixed, D 16 (4/2 heads)", 4, 2, 16, {{1, 17}, {16, 16}, {9, 30}}, target);
  check_case("prompt of 4096 tokens (sampled rows)", 12, 2, 128, {{4096, 4096}}, target, 48);
  check_case("prompt of 16384 tokens (sampled rows)", 12, 2, 128, {{16384, 16384}}, target, 16);
  check_case("chunk of 2048 after 14336 cached (sampled rows)", 12, 2, 128, {{2048, 16384}}, target, 32);
  }

  if (!bench_too) {
    std::printf("\n%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
  }
  // Timings, r1 geometry (12/2 heads, D 128): one layer's attention.
  std::printf("\n%-44s %12s %12s %8s\n", "case (one layer)", "tensor core", "cuda core", "ratio");
  auto bench = [&](const char* name, std::vector<Seq> seqs, bool old_too) {
    Problem p(12, 2, 128, std::move(seqs), false);
    Device dev(p, target);
    const int iters = p.rows > 2048 ? 5 : 50;
    const float tc = time_ms(dev, p, true, iters);
    const float old = old_too ? time_ms(dev, p, false, iters) : 0.f;
    if (old_too) std::printf("%-44s %9.1f us %9.1f us %7.1fx\n", name, tc * 1e3, old * 1e3, old / tc);
    else std::printf("%-44s %9.1f us %12s\n", name, tc * 1e3, "-");
  };
  for (int batch : {1, 32, 256})
    for (int ctx : {128, 1024, 4096, 16384}) {
      if (batch == 256 && ctx == 16384) continue;
      char name[64];
      std::snprintf(name, sizeof name, "decode batch %d, context %d", batch, ctx);
      bench(name, std::vector<Seq>(batch, Seq{1, ctx}), true);
    }
  bench("prompt of 2048 tokens", {{2048, 2048}}, true);
  bench("prompt of 4096 tokens", {{4096, 4096}}, true);
  bench("prompt of 16384 tokens", {{16384, 16384}}, false);
  bench("chunk of 2048 after 14336 cached", {{2048, 16384}}, false);
  std::printf("\n%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
