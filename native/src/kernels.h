// barista's CUDA kernels behind a plain C++ interface (raw device pointers, sizes, a stream), so the .cu files need
// no ATen headers. The JNI layer (ops_jni.cpp) checks shapes and dtypes before calling these.
#pragma once
#include <cstdint>
#include <cuda_runtime.h>

namespace barista {

enum class DType { kHalf, kFloat };

// out = x / sqrt(mean(x^2) + eps) * w per row, statistics in float32 (Hugging Face's Qwen2RMSNorm).
void rms_norm(DType t, void* out, const void* x, const void* w, int rows, int hidden, float eps, cudaStream_t s);

// sum = x + residual (rounded to the dtype, as PyTorch's add); out = rms_norm(sum) * w. vLLM's fused_add_rms_norm.
void add_rms_norm(DType t, void* out, void* sum, const void* x, const void* residual, const void* w, int rows,
                  int hidden, float eps, cudaStream_t s);

// Splits a fused qkv projection [T, (H + 2 KV) * D] into q [T, H, D], k [T, KV, D] (both rotated, rotate_half
// layout) and v [T, KV, D]. cos/sin: [maxPos, D/2] in the dtype; positions: [T] int64.
void rope_split(DType t, void* q, void* k, void* v, const void* qkv, const int64_t* positions, const void* cos,
                const void* sin, int tokens, int heads, int kv_heads, int head_dim, cudaStream_t s);

// rope_split with k and v written at each token's slot of the paged caches [slots, KV, D] (nothing for a slot < 0)
// instead of returned: q [T, H, D] only.
void rope_split_cache(DType t, void* q, void* k_cache, void* v_cache, const int64_t* slots, const void* qkv,
                      const int64_t* positions, const void* cos, const void* sin, int tokens, int heads,
                      int kv_heads, int head_dim, cudaStream_t s);

// out [T, I] = silu(x[:, :I]) * x[:, I:], silu in float32 and rounded once (as torch.nn.functional.silu).
void silu_and_mul(DType t, void* out, const void* x, int tokens, int inter, cudaStream_t s);

// fp16 y [M, N] = x [M, K] . w [N, K]^T (+ bias [N], nullptr: none) for M <= kDenseGemvMaxRows, K % 8 == 0,
// 16-byte aligned rows: the decode steps' linears, where cuBLAS's kernels read the weight well below the memory's
// speed. Returns false (nothing launched) for a shape it does not take.
constexpr int kDenseGemvMaxRows = 8;
bool dense_gemv(void* y, const void* x, const void* w, const void* bias, int M, int N, int K, cudaStream_t s);

// k/v [T, KV * D] stored at their slots of the caches [slots, KV * D]; a negative slot (a padding row) writes nothing.
void write_kv(DType t, void* k_cache, void* v_cache, const void* k, const void* v, const int64_t* slots, int tokens,
              int kv_width, cudaStream_t s);

// Each query row against its paged context: q [R, H, D], caches [blocks * block_size, KV, D], block_tables
// [S, max_blocks] int32, row_seq [R] int32 (the row's sequence; nullptr: row r is sequence r, a decode step),
// context_lens [R] int32: keys 0 .. len-1 of the row's sequence (a prompt row's own position + 1, so the mask is
// causal; 0: a padding row, output zeros). out [R, H, D]. Online softmax in float32, blocks read in place.
void paged_attention(DType t, void* out, const void* q, const void* k_cache, const void* v_cache,
                     const int32_t* block_tables, const int32_t* row_seq, const int32_t* context_lens, int rows,
                     int heads, int kv_heads, int head_dim, int max_blocks, int block_size, float scale,
                     cudaStream_t s);

// Structured output: logits [R, V] float32, in place, keep token j of row r where bit j % 64 of bits[r * W + j / 64]
// is set (W = (V + 63) / 64 words per row) and set the others to -inf.
void apply_token_mask(float* logits, const uint64_t* bits, int rows, int vocab, cudaStream_t s);

// One token per row of float32 logits [rows, vocab], by params [rows, 7] (temperature, top_k, min_p, top_p, the
// row's uniform draw, greedy 0/1, unused): the argmax for greedy rows, else the host sampler's draw (temperature,
// min-p, top-k, top-p, inverse CDF in descending probability). -1 for a row the kernel leaves to the caller (its
// boundary in a bucket of more than 2,048 tokens of near-equal weight).
void sample_rows(int64_t* out, const float* logits, const float* params, int rows, int vocab, cudaStream_t s);

}  // namespace barista
