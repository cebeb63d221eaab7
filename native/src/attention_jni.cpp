// JNI entry points of the tensor-core paged attention (native/src/attention/). Java class:
// barista.engine.cuda.CudaNative.
#include <ATen/cuda/CUDAContext.h>

#include "attention/attention.h"
#include "jni_util.h"

using namespace barista::jni;

BARISTA_JNI(jint, multiProcessorCount)(JNIEnv* env, jclass, jint device) {
  return guarded<jint>(env, 0, [&] {
    return static_cast<jint>(at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(device))->multiProcessorCount);
  });
}

// out [R, H, D] fp16 = attention of q [R, H, D] over the paged caches [slots, KV, D], as the work list says
// (int32 [4 + 12 * maxItems], see AttentionWork); scratch: float32 chunk partials. maxItems blocks are launched.
BARISTA_JNI(jlong, pagedAttentionTc)(JNIEnv* env, jclass, jlong q, jlong kCache, jlong vCache, jlong blockTables,
                                     jlong work, jlong scratch, jlong counters, jint maxItems, jint blockSize,
                                     jfloat scale) {
  return guarded<jlong>(env, 0, [&] {
    at::Tensor& qs = tensor(q);
    at::Tensor& kc = tensor(kCache);
    at::Tensor& vc = tensor(vCache);
    at::Tensor& bt = tensor(blockTables);
    at::Tensor& wk = tensor(work);
    at::Tensor& sc = tensor(scratch);
    at::Tensor& cn = tensor(counters);
    expect_index(cn, at::kInt, "pagedAttentionTc counters");
    expect(dtype_of(qs, "pagedAttentionTc q") == barista::DType::kHalf
               && dtype_of(kc, "pagedAttentionTc kCache") == barista::DType::kHalf
               && dtype_of(vc, "pagedAttentionTc vCache") == barista::DType::kHalf,
           "pagedAttentionTc: q and caches must be float16");
    expect_index(bt, at::kInt, "pagedAttentionTc blockTables");
    expect_index(wk, at::kInt, "pagedAttentionTc work");
    expect(sc.is_cuda() && sc.is_contiguous() && sc.scalar_type() == at::kFloat, "pagedAttentionTc: scratch float32");
    expect(qs.dim() == 3 && kc.dim() == 3 && kc.sizes() == vc.sizes() && kc.size(2) == qs.size(2),
           "pagedAttentionTc: q [R, H, D] and caches [slots, KV, D]");
    expect(barista::paged_attention_tc_supports(static_cast<int>(qs.size(2))), "pagedAttentionTc: head_dim");
    expect(bt.dim() == 2, "pagedAttentionTc: block tables [S, maxBlocks]");
    expect(maxItems >= 0 && wk.numel() >= barista::kAttentionWorkHeader + 12L * maxItems,
           "pagedAttentionTc: the work buffer holds fewer than maxItems items");
    at::Tensor out = at::empty_like(qs);
    barista::paged_attention_tc(out.data_ptr(), qs.data_ptr(), kc.data_ptr(), vc.data_ptr(), bt.data_ptr<int32_t>(),
                                wk.data_ptr<int32_t>(), sc.data_ptr<float>(), cn.data_ptr<int32_t>(), maxItems,
                                static_cast<int>(qs.size(1)), static_cast<int>(kc.size(1)),
                                static_cast<int>(qs.size(2)), static_cast<int>(bt.size(1)), blockSize, scale,
                                stream());
    return wrap(out);
  });
}
