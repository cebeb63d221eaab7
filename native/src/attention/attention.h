// Tensor-core paged attention (prefill chunks and decodes in one launch) over barista's paged KV cache.
#pragma once
#include <cstdint>
#include <cuda_runtime.h>

namespace barista {

// One block's work, built on the host each step (scheduling is host knowledge: query lengths, context lengths):
// packed query rows [row_begin, row_end) of one sequence and one KV head, against keys [kv_begin, kv_end) of its
// context. Packed row r is token r / group, query head kv_head * group + r % group (grouped-query heads share
// their K/V tile, FlashInfer's GQA packing). Query token i of a sequence sits at position context_len - q_len + i
// and sees keys up to it (causal). A long context may be split into chunks (flash-decoding): a chunk writes its
// unnormalised output, max and sum to scratch slot `partial`; each chunk of the split carries merge_count (the
// chunks) and merge_slot (their first slot: the split's slots are consecutive), and the last chunk to finish merges.
struct AttentionWorkItem {
  int32_t seq;          // row of the block tables
  int32_t kv_head;
  int32_t row_begin;
  int32_t row_end;      // at most kAttentionTileRows past row_begin
  int32_t kv_begin;
  int32_t kv_end;
  int32_t q_start;      // the sequence's first row of q
  int32_t q_len;
  int32_t context_len;
  int32_t partial;      // -1: normalise and write out
  int32_t merge_count;  // the split's chunks (0: not split)
  int32_t merge_slot;   // the split's first slot, also its counter's index
};

constexpr int kAttentionTileRows = 128;  // packed rows per block: 4 warps x 32 (a decode: at most 16)
constexpr int kAttentionTileKeys = 64;   // keys per shared-memory tile
constexpr int kAttentionDecodeRows = 16; // a tile of at most this many rows (a decode's heads) splits its keys among warps
constexpr int kAttentionWorkHeader = 4;  // int32s before the items: [0] = the number of items
constexpr int kAttentionMaxChunks = 32;  // chunks of one split at most (the merge keeps two floats per row and chunk)

// work: int32 [kAttentionWorkHeader + max_items * 12] on the device (the count first, then AttentionWorkItem).
// grid: max_items blocks, a bound fixed when a CUDA graph is captured; blocks past the count exit at once.
// scratch: float [slots, kAttentionTileRows, head_dim + 2]; counters: int32 [slots], zero before the first launch
// (each split's merger leaves its counter at zero again). fp16 q/caches/out, head_dim 16, 32, 64 or 128.
// q [R, H, D]; caches [slots, KV, D]; block_tables [S, max_blocks]; out [R, H, D].
void paged_attention_tc(void* out, const void* q, const void* k_cache, const void* v_cache,
                        const int32_t* block_tables, const int32_t* work, float* scratch, int32_t* counters,
                        int max_items, int heads, int kv_heads, int head_dim, int max_blocks, int block_size,
                        float scale, cudaStream_t s);

bool paged_attention_tc_supports(int head_dim);

}  // namespace barista
