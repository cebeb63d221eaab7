// JNI entry points of the fused layer kernels (layernorm, rotary, activation, cache, the CUDA-core attention, token
// masks): each checks its arrays' shapes and dtypes, allocates its output through PyTorch (so a call records into a
// CUDA graph's pool) and launches on the engine's current stream. Java class: barista.engine.cuda.CudaNative.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <string>
#include <vector>

#include "jni_util.h"

using namespace barista::jni;

BARISTA_JNI(jlong, embedding)(JNIEnv* env, jclass, jlong weight, jlong ids) {
  return guarded<jlong>(env, 0, [&] { return wrap(at::embedding(tensor(weight), tensor(ids))); });
}

BARISTA_JNI(jlong, rmsNorm)(JNIEnv* env, jclass, jlong x, jlong w, jfloat eps) {
  return guarded<jlong>(env, 0, [&] {
    at::Tensor& xs = tensor(x);
    at::Tensor& ws = tensor(w);
    auto t = dtype_of(xs, "rmsNorm x");
    expect(ws.scalar_type() == xs.scalar_type() && ws.numel() == xs.size(-1), "rmsNorm: weight must match x");
    at::Tensor out = at::empty_like(xs);
    barista::rms_norm(t, out.data_ptr(), xs.data_ptr(), ws.data_ptr(), static_cast<int>(xs.numel() / xs.size(-1)),
                      static_cast<int>(xs.size(-1)), eps, stream());
    return wrap(out);
  });
}

BARISTA_JNI(jlongArray, addRmsNorm)(JNIEnv* env, jclass, jlong x, jlong residual, jlong w, jfloat eps) {
  return guarded<jlongArray>(env, nullptr, [&] {
    at::Tensor& xs = tensor(x);
    at::Tensor& rs = tensor(residual);
    at::Tensor& ws = tensor(w);
    auto t = dtype_of(xs, "addRmsNorm x");
    dtype_of(rs, "addRmsNorm residual");
    expect(rs.sizes() == xs.sizes() && rs.scalar_type() == xs.scalar_type(), "addRmsNorm: residual must match x");
    expect(ws.scalar_type() == xs.scalar_type() && ws.numel() == xs.size(-1), "addRmsNorm: weight must match x");
    at::Tensor out = at::empty_like(xs);
    at::Tensor sum = at::empty_like(xs);
    barista::add_rms_norm(t, out.data_ptr(), sum.data_ptr(), xs.data_ptr(), rs.data_ptr(), ws.data_ptr(),
                          static_cast<int>(xs.numel() / xs.size(-1)), static_cast<int>(xs.size(-1)), eps, stream());
    return longs(env, {wrap(out), wrap(sum)});
  });
}

// What ropeSplit and ropeSplitCache both take: qkv [T, (H + 2 KV) * D], an int64 position per token, cos/sin tables
// [positions, D / 2] in qkv's dtype. Returns qkv's dtype.
static barista::DType check_rope(const at::Tensor& x, const at::Tensor& pos, const at::Tensor& c, const at::Tensor& s,
                                 int heads, int kvHeads, int headDim, const std::string& what) {
  auto t = dtype_of(x, (what + " qkv").c_str());
  expect_index(pos, at::kLong, (what + " positions").c_str());
  expect(x.dim() == 2 && x.size(1) == (int64_t) (heads + 2 * kvHeads) * headDim, what + ": qkv width");
  expect(pos.numel() == x.size(0), what + ": one position per token");
  expect(c.scalar_type() == x.scalar_type() && s.scalar_type() == x.scalar_type() && c.is_contiguous()
             && s.is_contiguous() && c.size(-1) == headDim / 2,
         what + ": cos/sin tables must be [positions, headDim/2] in the dtype");
  return t;
}

// What a write of T tokens' k/v (width elements each, dtype like) into the paged caches needs: CUDA caches of equal
// shape [slots, width] in that dtype, and an int64 slot per token.
static void check_kv_write(const at::Tensor& kc, const at::Tensor& vc, const at::Tensor& sl, int64_t tokens,
                           int64_t width, const at::Tensor& like, const std::string& what) {
  dtype_of(kc, (what + " kCache").c_str());
  dtype_of(vc, (what + " vCache").c_str());
  expect_index(sl, at::kLong, (what + " slots").c_str());
  expect(sl.numel() == tokens, what + ": one slot per token");
  expect(kc.numel() % std::max<int64_t>(width, 1) == 0 && kc.sizes() == vc.sizes()
             && kc.scalar_type() == like.scalar_type(),
         what + ": caches must be [slots, kvHeads, headDim] in the dtype of what is written");
}

BARISTA_JNI(jlongArray, ropeSplit)(JNIEnv* env, jclass, jlong qkv, jlong positions, jlong cos, jlong sin,
                                   jint heads, jint kvHeads, jint headDim) {
  return guarded<jlongArray>(env, nullptr, [&] {
    at::Tensor& x = tensor(qkv);
    at::Tensor& pos = tensor(positions);
    at::Tensor& c = tensor(cos);
    at::Tensor& s = tensor(sin);
    auto t = check_rope(x, pos, c, s, heads, kvHeads, headDim, "ropeSplit");
    const int64_t tokens = x.size(0);
    auto opts = x.options();
    at::Tensor q = at::empty({tokens, heads, headDim}, opts);
    at::Tensor k = at::empty({tokens, kvHeads, headDim}, opts);
    at::Tensor v = at::empty({tokens, kvHeads, headDim}, opts);
    barista::rope_split(t, q.data_ptr(), k.data_ptr(), v.data_ptr(), x.data_ptr(), pos.data_ptr<int64_t>(),
                        c.data_ptr(), s.data_ptr(), static_cast<int>(tokens), heads, kvHeads, headDim, stream());
    return longs(env, {wrap(q), wrap(k), wrap(v)});
  });
}

// ropeSplit with k and v written at their slots of the caches [slots, KV, D] (vLLM's reshape_and_cache fused in):
// returns q only.
BARISTA_JNI(jlong, ropeSplitCache)(JNIEnv* env, jclass, jlong qkv, jlong positions, jlong cos, jlong sin,
                                   jlong kCache, jlong vCache, jlong slots, jint heads, jint kvHeads, jint headDim) {
  return guarded<jlong>(env, 0, [&] {
    at::Tensor& x = tensor(qkv);
    at::Tensor& pos = tensor(positions);
    at::Tensor& c = tensor(cos);
    at::Tensor& s = tensor(sin);
    at::Tensor& kc = tensor(kCache);
    at::Tensor& vc = tensor(vCache);
    at::Tensor& sl = tensor(slots);
    auto t = check_rope(x, pos, c, s, heads, kvHeads, headDim, "ropeSplitCache");
    const int64_t tokens = x.size(0);
    check_kv_write(kc, vc, sl, tokens, (int64_t) kvHeads * headDim, x, "ropeSplitCache");
    at::Tensor q = at::empty({tokens, heads, headDim}, x.options());
    barista::rope_split_cache(t, q.data_ptr(), kc.data_ptr(), vc.data_ptr(), sl.data_ptr<int64_t>(), x.data_ptr(),
                              pos.data_ptr<int64_t>(), c.data_ptr(), s.data_ptr(), static_cast<int>(tokens), heads,
                              kvHeads, headDim, stream());
    return wrap(q);
  });
}

BARISTA_JNI(jlong, siluAndMul)(JNIEnv* env, jclass, jlong x) {
  return guarded<jlong>(env, 0, [&] {
    at::Tensor& xs = tensor(x);
    auto t = dtype_of(xs, "siluAndMul x");
    expect(xs.dim() == 2 && xs.size(1) % 2 == 0, "siluAndMul: x must be [T, 2 * intermediate]");
    const int64_t inter = xs.size(1) / 2;
    at::Tensor out = at::empty({xs.size(0), inter}, xs.options());
    barista::silu_and_mul(t, out.data_ptr(), xs.data_ptr(), static_cast<int>(xs.size(0)), static_cast<int>(inter),
                          stream());
    return wrap(out);
  });
}

// fp16 x [..., K] (at most kDenseGemvMaxRows rows) . w [N, K]^T (+ bias [N]; handle 0: none) -> [..., N].
BARISTA_JNI(jlong, denseGemv)(JNIEnv* env, jclass, jlong x, jlong w, jlong bias) {
  return guarded<jlong>(env, 0, [&] {
    at::Tensor& xo = tensor(x);
    at::Tensor& ws = tensor(w);
    expect(xo.is_cuda() && xo.scalar_type() == at::kHalf && ws.is_cuda() && ws.is_contiguous()
               && ws.scalar_type() == at::kHalf && ws.dim() == 2,
           "denseGemv: x and a contiguous [N, K] weight must be float16 CUDA tensors");
    const int64_t n = ws.size(0), k = ws.size(1);
    expect(xo.dim() >= 1 && xo.size(-1) == k, "denseGemv: x's last dimension must be the weight's K");
    at::Tensor xs = xo.contiguous().view({-1, k});
    expect(xs.size(0) >= 1 && xs.size(0) <= barista::kDenseGemvMaxRows,
           "denseGemv: 1 to " + std::to_string(barista::kDenseGemvMaxRows) + " rows");
    const void* b = nullptr;
    if (bias != 0) {
      at::Tensor& bs = tensor(bias);
      expect(bs.is_cuda() && bs.is_contiguous() && bs.scalar_type() == at::kHalf && bs.numel() == n,
             "denseGemv: bias must be [N] float16");
      b = bs.data_ptr();
    }
    std::vector<int64_t> shape(xo.sizes().begin(), xo.sizes().end());
    shape.back() = n;
    at::Tensor y = at::empty(shape, xo.options());
    expect(barista::dense_gemv(y.data_ptr(), xs.data_ptr(), ws.data_ptr(), b, static_cast<int>(xs.size(0)),
                               static_cast<int>(n), static_cast<int>(k), stream()),
           "denseGemv: K must be a multiple of 8 and the rows 16-byte aligned");
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return wrap(y);
  });
}

// In place: logits [R, V] float32, bits [R, (V + 63) / 64] int64 (token j is bit j % 64 of word j / 64).
BARISTA_JNI(void, applyTokenMask)(JNIEnv* env, jclass, jlong logits, jlong bits) {
  guarded<int>(env, 0, [&] {
    at::Tensor& x = tensor(logits);
    at::Tensor& b = tensor(bits);
    expect(x.is_cuda() && x.is_contiguous() && x.scalar_type() == at::kFloat && x.dim() == 2,
           "applyTokenMask: logits must be a contiguous CUDA float32 [rows, vocab] tensor");
    expect_index(b, at::kLong, "applyTokenMask bits");
    expect(b.dim() == 2 && b.size(0) == x.size(0) && b.size(1) == (x.size(1) + 63) / 64,
           "applyTokenMask: bits must be [rows, (vocab + 63) / 64]");
    barista::apply_token_mask(x.data_ptr<float>(), reinterpret_cast<const uint64_t*>(b.data_ptr<int64_t>()),
                              static_cast<int>(x.size(0)), static_cast<int>(x.size(1)), stream());
    return 0;
  });
}

// int64 [rows] tokens drawn from float32 logits [rows, vocab] by float32 params [rows, 7] (see kernels.h).
BARISTA_JNI(jlong, sampleRows)(JNIEnv* env, jclass, jlong logits, jlong params) {
  return guarded<jlong>(env, 0, [&] {
    at::Tensor& x = tensor(logits);
    at::Tensor& p = tensor(params);
    expect(x.is_cuda() && x.is_contiguous() && x.scalar_type() == at::kFloat && x.dim() == 2,
           "sampleRows: logits must be a contiguous CUDA float32 [rows, vocab] tensor");
    expect(p.is_cuda() && p.is_contiguous() && p.scalar_type() == at::kFloat && p.dim() == 2 && p.size(1) == 7
               && p.size(0) == x.size(0),
           "sampleRows: params must be a contiguous CUDA float32 [rows, 7] tensor");
    at::Tensor out = at::empty({x.size(0)}, x.options().dtype(at::kLong));
    barista::sample_rows(out.data_ptr<int64_t>(), x.data_ptr<float>(), p.data_ptr<float>(),
                         static_cast<int>(x.size(0)), static_cast<int>(x.size(1)), stream());
    return wrap(out);
  });
}

BARISTA_JNI(void, writeKv)(JNIEnv* env, jclass, jlong k, jlong v, jlong kCache, jlong vCache, jlong slots) {
  guarded<int>(env, 0, [&] {
    at::Tensor& ks = tensor(k);
    at::Tensor& vs = tensor(v);
    at::Tensor& kc = tensor(kCache);
    at::Tensor& vc = tensor(vCache);
    at::Tensor& sl = tensor(slots);
    auto t = dtype_of(ks, "writeKv k");
    dtype_of(vs, "writeKv v");
    const int64_t tokens = ks.size(0);
    const int64_t width = ks.numel() / std::max<int64_t>(tokens, 1);
    expect(vs.sizes() == ks.sizes(), "writeKv: k and v disagree");
    check_kv_write(kc, vc, sl, tokens, width, ks, "writeKv");
    barista::write_kv(t, kc.data_ptr(), vc.data_ptr(), ks.data_ptr(), vs.data_ptr(), sl.data_ptr<int64_t>(),
                      static_cast<int>(tokens), static_cast<int>(width), stream());
    return 0;
  });
}

BARISTA_JNI(jlong, pagedAttention)(JNIEnv* env, jclass, jlong q, jlong kCache, jlong vCache, jlong blockTables,
                                   jlong rowSeq, jlong contextLens, jint blockSize, jfloat scale) {
  return guarded<jlong>(env, 0, [&] {
    at::Tensor& qs = tensor(q);
    at::Tensor& kc = tensor(kCache);
    at::Tensor& vc = tensor(vCache);
    at::Tensor& bt = tensor(blockTables);
    at::Tensor& cl = tensor(contextLens);
    auto t = dtype_of(qs, "pagedAttention q");
    dtype_of(kc, "pagedAttention kCache");
    dtype_of(vc, "pagedAttention vCache");
    expect_index(bt, at::kInt, "pagedAttention blockTables");
    expect_index(cl, at::kInt, "pagedAttention contextLens");
    expect(qs.dim() == 3 && kc.dim() == 3 && kc.sizes() == vc.sizes() && kc.size(2) == qs.size(2),
           "pagedAttention: q [R, H, D] and caches [slots, KV, D]");
    const int64_t rows = qs.size(0);
    const int32_t* row_seq = nullptr;
    if (rowSeq != 0) {
      at::Tensor& rs = tensor(rowSeq);
      expect_index(rs, at::kInt, "pagedAttention rowSeq");
      expect(rs.numel() == rows, "pagedAttention: one sequence index per row");
      row_seq = rs.data_ptr<int32_t>();
    } else {
      expect(bt.size(0) == rows, "pagedAttention: one block-table row per query row");
    }
    expect(bt.dim() == 2 && cl.numel() == rows, "pagedAttention: one context length per row");
    at::Tensor out = at::empty_like(qs);
    barista::paged_attention(t, out.data_ptr(), qs.data_ptr(), kc.data_ptr(), vc.data_ptr(), bt.data_ptr<int32_t>(),
                             row_seq, cl.data_ptr<int32_t>(), static_cast<int>(rows), static_cast<int>(qs.size(1)),
                             static_cast<int>(kc.size(1)), static_cast<int>(qs.size(2)),
                             static_cast<int>(bt.size(1)), blockSize, scale, stream());
    return wrap(out);
  });
}
