// Temperature, min-p, top-k and top-p sampling of every row of a step in one launch, the draw the host makes on the
// CPU path (barista.engine.sampling.HostSampling, written after it): inverse CDF with the row's uniform over its
// kept tokens in descending probability, without sorting the vocabulary. A histogram of count and mass over the
// weights' top bits places each boundary (top-k's count, top-p's mass, the draw's mass) in one bucket, and only that
// bucket's tokens are gathered and sorted, as radix-select top-k kernels do. Greedy rows take the argmax (the first
// index among equal maxima, as torch's).
#include <cfloat>
#include <climits>
#include <cstdint>

#include "kernels.h"
#include "common/launch.h"

namespace barista {
namespace {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;
// Buckets of weights in (0, 1], most likely first: bucket 0 holds weight 1 (the maximum). A bucket spans 2^18
// ulps of a float (32 buckets per factor of two); weights below 2^-47 (32 nats under the maximum, beyond what a
// float32 sum of the kept mass can tell) share the tail bucket, the last one used.
constexpr int kBuckets = 2048;
constexpr int kBucketShift = 18;
constexpr uint32_t kBucketFloor = 80u << 23;  // the bits of 2^-47
constexpr int kTail = (int) ((0x3F800000u - kBucketFloor) >> kBucketShift);
static_assert(kTail < kBuckets, "the buckets must reach down to the tail");
// Tokens of one bucket sorted in shared memory at most; a fuller bucket is split once more, by the next 8 bits of
// its weights, and a row whose boundary falls in a sub-bucket still fuller (thousands of tokens of one weight to
// within 0.01 %) is left to the caller (-1).
constexpr int kGather = 2048;
constexpr int kSubBuckets = 256;

struct Shared {
  unsigned count[kBuckets];  // per bucket, then inclusive prefix sums
  float mass[kBuckets];
  float weight[kGather];     // one bucket's tokens, sorted by weight (descending), then index
  int index[kGather];
  unsigned sub_count[kSubBuckets];  // a crowded bucket split by its weights' next 8 bits
  float sub_mass[kSubBuckets];
  float red_f[kWarps];
  int red_i[kWarps];
  int found;
  int gathered;
  float walk_mass;
  int walk_at;
  unsigned sub_before_count;
  float sub_before_mass;
};

__device__ __forceinline__ int bucket_of(float w) {  // w in (0, 1]
  const uint32_t bits = __float_as_uint(w);
  const int up = bits <= kBucketFloor ? 0 : (int) ((bits - kBucketFloor) >> kBucketShift);
  return kTail - min(up, kTail);
}

// The one formula for a token's weight, so that the histogram and every gather agree on each token's bucket.
__device__ __noinline__ float weight_of(float logit, float max, float inv_temperature) {
  return expf((logit - max) * inv_temperature);
}

__device__ __forceinline__ bool kept_by_min_p(float w, float min_p) { return w > 0.f && w >= min_p; }

// The largest value and the first index holding it, over the block.
__device__ void block_argmax(float& v, int& i, Shared& sh) {
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int oi = __shfl_xor_sync(0xffffffffu, i, o);
    if (ov > v || (ov == v && oi < i)) { v = ov; i = oi; }
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) { sh.red_f[warp] = v; sh.red_i[warp] = i; }
  __syncthreads();
  v = sh.red_f[0];
  i = sh.red_i[0];
  for (int w = 1; w < kWarps; w++) {
    if (sh.red_f[w] > v || (sh.red_f[w] == v && sh.red_i[w] < i)) { v = sh.red_f[w]; i = sh.red_i[w]; }
  }
  __syncthreads();
}

// count and mass become inclusive prefix sums in bucket order (thread t owns buckets 2t and 2t + 1).
__device__ void scan_buckets(Shared& sh) {
  static_assert(kBuckets == 2 * kThreads, "two buckets a thread");
  const int b = 2 * threadIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const unsigned c0 = sh.count[b], c1 = sh.count[b + 1];
  const float m0 = sh.mass[b], m1 = sh.mass[b + 1];
  unsigned c = c0 + c1;
  float m = m0 + m1;
  for (int o = 1; o < 32; o <<= 1) {  // inclusive within the warp
    const unsigned oc = __shfl_up_sync(0xffffffffu, c, o);
    const float om = __shfl_up_sync(0xffffffffu, m, o);
    if (lane >= o) { c += oc; m += om; }
  }
  __syncthreads();
  if (lane == 31) { sh.red_i[warp] = (int) c; sh.red_f[warp] = m; }
  __syncthreads();
  unsigned before_c = 0;
  float before_m = 0.f;
  for (int w = 0; w < warp; w++) { before_c += (unsigned) sh.red_i[w]; before_m += sh.red_f[w]; }
  const unsigned ec = before_c + c - (c0 + c1);  // exclusive
  const float em = before_m + m - (m0 + m1);
  sh.count[b] = ec + c0;
  sh.count[b + 1] = ec + c0 + c1;
  sh.mass[b] = em + m0;
  sh.mass[b + 1] = em + m0 + m1;
  __syncthreads();
}

// The first non-empty bucket whose inclusive count (by_count) or mass reaches the bound (>= when inclusive, else >);
// -1 when none does.
__device__ int locate(Shared& sh, float bound, bool by_count, bool inclusive) {
  if (threadIdx.x == 0) sh.found = -1;
  __syncthreads();
  for (int b = threadIdx.x; b < kBuckets; b += kThreads) {
    const float here = by_count ? (float) sh.count[b] : sh.mass[b];
    const float prev = b == 0 ? 0.f : (by_count ? (float) sh.count[b - 1] : sh.mass[b - 1]);
    const bool reaches = inclusive ? here >= bound : here > bound;
    const bool before = b > 0 && (inclusive ? prev >= bound : prev > bound);
    if (reaches && !before && sh.count[b] != (b == 0 ? 0u : sh.count[b - 1])) sh.found = b;
  }
  __syncthreads();
  return sh.found;
}

__device__ __forceinline__ unsigned count_before(const Shared& sh, int b) { return b == 0 ? 0u : sh.count[b - 1]; }
__device__ __forceinline__ float mass_before(const Shared& sh, int b) { return b == 0 ? 0.f : sh.mass[b - 1]; }
__device__ __forceinline__ unsigned count_in(const Shared& sh, int b) { return sh.count[b] - count_before(sh, b); }

__device__ __forceinline__ int sub_bucket_of(float w) {  // within one bucket (not the tail), most likely first
  return kSubBuckets - 1 - (int) ((__float_as_uint(w) >> (kBucketShift - 8)) & (kSubBuckets - 1));
}

// Gathers the n tokens of bucket b (and, when sub >= 0, of its sub-bucket sub) into shared memory and sorts them:
// weight descending, then index ascending (a bitonic sort over the next power of two). n <= kGather.
__device__ void gather_sorted(Shared& sh, const float* x, int vocab, float max, float inv_t, float min_p, int b,
                              int sub, int n) {
  if (threadIdx.x == 0) sh.gathered = 0;
  __syncthreads();
  for (int i = threadIdx.x; i < vocab; i += kThreads) {
    const float w = weight_of(x[i], max, inv_t);
    if (kept_by_min_p(w, min_p) && bucket_of(w) == b && (sub < 0 || sub_bucket_of(w) == sub)) {
      const int at = atomicAdd(&sh.gathered, 1);
      if (at < kGather) { sh.weight[at] = w; sh.index[at] = i; }
    }
  }
  __syncthreads();
  int size = 1;
  while (size < n) size <<= 1;
  for (int i = n + threadIdx.x; i < size; i += kThreads) { sh.weight[i] = -1.f; sh.index[i] = INT_MAX; }
  __syncthreads();
  for (int k = 2; k <= size; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < size; i += kThreads) {
        const int p = i ^ j;
        if (p > i) {
          const float wi = sh.weight[i], wp = sh.weight[p];
          const int ii = sh.index[i], ip = sh.index[p];
          const bool i_first = wi > wp || (wi == wp && ii < ip);  // i comes first in the final order
          const bool forward = (i & k) == 0;                      // this pair's half is sorted first-to-last
          if (i_first != forward) {
            sh.weight[i] = wp; sh.weight[p] = wi;
            sh.index[i] = ip; sh.index[p] = ii;
          }
        }
      }
      __syncthreads();
    }
  }
}

// The tokens a crossing of `bound` (count when by_count, else mass; >= when inclusive, else >) in bucket b lies
// among, gathered and sorted: the whole bucket, or the sub-bucket of a crowded one. Their count is returned (-1: too
// many to gather), and the count and mass of every token before them in *count_before / *mass_before.
__device__ int gather_crossing(Shared& sh, const float* x, int vocab, float max, float inv_t, float min_p, int b,
                               float bound, bool by_count, bool inclusive, unsigned* count_before_out,
                               float* mass_before_out) {
  const unsigned n = count_in(sh, b);
  if (n <= kGather) {
    gather_sorted(sh, x, vocab, max, inv_t, min_p, b, -1, n);
    *count_before_out = count_before(sh, b);
    *mass_before_out = mass_before(sh, b);
    return n;
  }
  if (b == kTail) return -1;  // spans many exponents: its next bits do not order it
  for (int i = threadIdx.x; i < kSubBuckets; i += kThreads) { sh.sub_count[i] = 0; sh.sub_mass[i] = 0.f; }
  __syncthreads();
  for (int i = threadIdx.x; i < vocab; i += kThreads) {
    const float w = weight_of(x[i], max, inv_t);
    if (kept_by_min_p(w, min_p) && bucket_of(w) == b) {
      const int sb = sub_bucket_of(w);
      atomicAdd(&sh.sub_count[sb], 1u);
      atomicAdd(&sh.sub_mass[sb], w);
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) {  // 256 sub-buckets, most likely first; not reached (rounding): the last non-empty one
    unsigned c = count_before(sh, b);
    float m = mass_before(sh, b);
    int found = -1;
    unsigned found_c = c;
    float found_m = m;
    for (int sb = 0; sb < kSubBuckets; sb++) {
      if (sh.sub_count[sb] == 0) continue;
      found = sb;
      found_c = c;
      found_m = m;
      c += sh.sub_count[sb];
      m += sh.sub_mass[sb];
      if (by_count ? (inclusive ? c >= bound : c > bound) : (inclusive ? m >= bound : m > bound)) break;
    }
    sh.found = found;
    sh.sub_before_count = found_c;
    sh.sub_before_mass = found_m;
  }
  __syncthreads();
  const int sb = sh.found;
  const unsigned sub_n = sh.sub_count[sb];
  *count_before_out = sh.sub_before_count;
  *mass_before_out = sh.sub_before_mass;
  if (sub_n > kGather) return -1;
  gather_sorted(sh, x, vocab, max, inv_t, min_p, b, sb, sub_n);
  return sub_n;
}

// Walks the sorted bucket from mass `base`: the first position whose running mass reaches `bound` (>= when
// inclusive, else >), or -1; the running mass there (or after the bucket) in sh.walk_mass. Warp 0 walks 32 at a time.
__device__ int walk(Shared& sh, int n, float base, float bound, bool inclusive) {
  if (threadIdx.x < 32) {
    const int lane = threadIdx.x;
    float acc = base;
    int at = -1;
    for (int j0 = 0; j0 < n && at < 0; j0 += 32) {
      float m = j0 + lane < n ? sh.weight[j0 + lane] : 0.f;
      for (int o = 1; o < 32; o <<= 1) {
        const float om = __shfl_up_sync(0xffffffffu, m, o);
        if (lane >= o) m += om;
      }
      const float run = acc + m;
      const bool hit = j0 + lane < n && (inclusive ? run >= bound : run > bound);
      const unsigned hits = __ballot_sync(0xffffffffu, hit);
      if (hits != 0) {
        const int first = __ffs(hits) - 1;
        at = j0 + first;
        acc = __shfl_sync(0xffffffffu, run, first);
      } else {
        acc = __shfl_sync(0xffffffffu, run, 31);
      }
    }
    if (lane == 0) { sh.walk_at = at; sh.walk_mass = acc; }
  }
  __syncthreads();
  return sh.walk_at;
}

__global__ void __launch_bounds__(kThreads) sample_rows_kernel(int64_t* out, const float* logits, const float* params,
                                                               int vocab) {
  __shared__ Shared sh;
  const int row = blockIdx.x;
  const float* x = logits + (long) row * vocab;
  const float* p = params + row * 7;  // temperature, top_k, min_p, top_p, uniform, greedy, (unused)
  float max = -INFINITY;
  int arg = INT_MAX;
  for (int i = threadIdx.x; i < vocab; i += kThreads) {
    const float v = x[i];
    if (v > max) { max = v; arg = i; }  // a NaN never is
  }
  block_argmax(max, arg, sh);
  if (arg == INT_MAX) arg = 0;
  // Greedy, or nothing finite to weigh: the most likely token.
  if (p[5] != 0.f || max == -INFINITY || max == INFINITY) {
    if (threadIdx.x == 0) out[row] = arg;
    return;
  }
  const float inv_t = 1.f / p[0], min_p = p[2], top_p = p[3], u = p[4];
  for (int b = threadIdx.x; b < kBuckets; b += kThreads) { sh.count[b] = 0; sh.mass[b] = 0.f; }
  __syncthreads();
  for (int i = threadIdx.x; i < vocab; i += kThreads) {
    const float w = weight_of(x[i], max, inv_t);
    if (kept_by_min_p(w, min_p)) {
      const int b = bucket_of(w);
      atomicAdd(&sh.count[b], 1u);
      atomicAdd(&sh.mass[b], w);
    }
  }
  __syncthreads();
  scan_buckets(sh);
  const unsigned candidates = sh.count[kBuckets - 1];
  if (candidates == 0) {
    if (threadIdx.x == 0) out[row] = arg;
    return;
  }
  // The kept set: the first `kept` tokens in descending order, of mass kept_mass; the last of them, where known.
  unsigned kept = candidates;
  float kept_mass = sh.mass[kBuckets - 1];
  int last = -1;
  bool exact = true;  // false: the kept set's end lies in the last bucket, not gathered (its mass below float's eye)
  const float top_k = p[1];
  unsigned before_c;
  float before_m;
  if (top_k < (float) candidates) {
    const unsigned k = (unsigned) top_k;
    const int b = locate(sh, (float) k, true, true);
    const int n = gather_crossing(sh, x, vocab, max, inv_t, min_p, b, (float) k, true, true, &before_c, &before_m);
    if (n >= 0) {
      const unsigned r = k - before_c;  // the k-th token is the r-th gathered
      walk(sh, r, before_m, INFINITY, true);  // the mass of the first r
      kept_mass = sh.walk_mass;
      last = sh.index[r - 1];
    } else if (b == kTail) {  // too many to gather, and too light to matter but as a share of the tail's mass
      const unsigned n_tail = count_in(sh, b);
      kept_mass = mass_before(sh, b) + (sh.mass[b] - mass_before(sh, b)) * ((float) (k - count_before(sh, b)) / n_tail);
      exact = false;
    } else {
      if (threadIdx.x == 0) out[row] = -1;
      return;
    }
    kept = k;
  }
  if (top_p < 1.f) {
    const float bound = top_p * kept_mass;
    const int b = locate(sh, bound, false, true);
    if (b >= 0 && count_before(sh, b) < kept) {
      const int n = gather_crossing(sh, x, vocab, max, inv_t, min_p, b, bound, false, true, &before_c, &before_m);
      if (n < 0) {
        if (threadIdx.x == 0) out[row] = -1;
        return;
      }
      int at = walk(sh, n, before_m, bound, true);
      if (at < 0) at = n - 1;  // not reached (rounding): all of them
      if (before_c + at + 1 < kept) {
        walk(sh, at + 1, before_m, INFINITY, true);
        kept = before_c + at + 1;
        kept_mass = sh.walk_mass;
        last = sh.index[at];
        exact = true;
      }
    }
  }
  const float target = u * kept_mass;
  const int b = locate(sh, target, false, false);
  int token = last;
  if (b >= 0 && count_before(sh, b) < kept) {
    const int n = (!exact && b == kTail) ? -1
        : gather_crossing(sh, x, vocab, max, inv_t, min_p, b, target, false, false, &before_c, &before_m);
    if (n < 0) {
      if (threadIdx.x == 0) out[row] = -1;
      return;
    }
    const int at = walk(sh, n, before_m, target, false);
    if (at >= 0 && before_c + at < kept) token = sh.index[at];
  }
  // Not exceeded (rounding): the least likely kept token, known when a cut ended the kept set; else the caller's.
  if (threadIdx.x == 0) out[row] = token;
}

}  // namespace

void sample_rows(int64_t* out, const float* logits, const float* params, int rows, int vocab, cudaStream_t s) {
  if (rows == 0) return;
  sample_rows_kernel<<<rows, kThreads, 0, s>>>(out, logits, params, vocab);
  check_launch("sample_rows");
}

}  // namespace barista
