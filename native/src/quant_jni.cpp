// JNI entry points of the quantized linear kernels (quantization/quant_kernels.h) on DJL's arrays: AWQ 4-bit and
// INT8 weight-only. Shapes and dtypes are checked here; the kernels allocate nothing on their own (the split-K
// scratch comes from PyTorch's caching allocator, so a call can be captured into a CUDA graph's pool).
// Java class: barista.engine.cuda.QuantKernels.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <jni.h>

#include <string>
#include <vector>

#include "jni_util.h"
#include "quantization/quant_kernels.h"

#define BARISTA_QUANT_JNI(ret, name) extern "C" JNIEXPORT ret JNICALL Java_barista_engine_cuda_QuantKernels_##name

using namespace barista::jni;

namespace {

// x [..., K] fp16 on CUDA, as a contiguous [M, K] matrix.
at::Tensor activations(jlong handle, int64_t k, const char* what) {
  at::Tensor& x = tensor(handle);
  expect(x.is_cuda() && x.scalar_type() == at::kHalf, std::string(what) + ": x must be a float16 CUDA tensor");
  expect(x.dim() >= 1 && x.size(-1) == k,
         std::string(what) + ": x's last dimension must be the layer's input size " + std::to_string(k));
  return x.contiguous().view({-1, k});
}

void expect_half(const at::Tensor& t, const char* what) {
  expect(t.is_cuda() && t.is_contiguous() && t.scalar_type() == at::kHalf,
         std::string(what) + ": expected a contiguous float16 CUDA tensor");
}

// The bias [N] fp16 of handle `bias`, or nullptr when there is none (handle 0).
const void* optional_bias(jlong bias, int64_t n, const char* what) {
  if (bias == 0) return nullptr;
  at::Tensor& b = tensor(bias);
  expect_half(b, (std::string(what) + " bias").c_str());
  expect(b.numel() == n, std::string(what) + ": bias must have N values");
  return b.data_ptr();
}

// y with x's leading dimensions and n outputs.
at::Tensor output_like(const at::Tensor& x_orig, int64_t n) {
  std::vector<int64_t> shape(x_orig.sizes().begin(), x_orig.sizes().end());
  shape.back() = n;
  return at::empty(shape, x_orig.options().dtype(at::kHalf));
}

float* workspace(at::Tensor& holder, int m, int n, int k, const at::Tensor& like) {
  const size_t bytes = barista::quant::gemm_workspace_bytes(m, n, k);
  if (bytes == 0) return nullptr;
  holder = at::empty({static_cast<int64_t>((bytes + 3) / 4)}, like.options().dtype(at::kFloat));
  return holder.data_ptr<float>();
}

// Past BARISTA_QUANT_DEQUANT_ROWS rows (barista::quant::dequant_min_rows), vLLM's AWQ path for large batches: the
// weight dequantized into fp16 scratch from the caching allocator (a graph captures it in its pool), then one
// cuBLAS GEMM with the bias. Returns y shaped like x with n outputs.
at::Tensor dequantized_linear(const at::Tensor& x_orig, const at::Tensor& xs, const at::Tensor& w16, jlong bias) {
  at::Tensor y = bias == 0 ? at::matmul(xs, w16.t()) : at::addmm(tensor(bias), xs, w16.t());
  std::vector<int64_t> shape(x_orig.sizes().begin(), x_orig.sizes().end());
  shape.back() = w16.size(0);
  return y.view(shape);
}

bool dequantizes(int m) {
  const int rows = barista::quant::dequant_min_rows();
  return rows > 0 && m >= rows;
}

}  // namespace

// x [..., K] fp16; qweight [N, K / 8] int32 (our nibble order); scales, zeros [N, K / group] fp16; bias [N] fp16 or 0.
BARISTA_QUANT_JNI(jlong, awqLinear)(JNIEnv* env, jclass, jlong x, jlong qweight, jlong scales, jlong zeros,
                                    jlong bias, jint group) {
  return guarded<jlong>(env, 0, [&] {
    at::Tensor& w = tensor(qweight);
    expect_index(w, at::kInt, "awqLinear qweight");
    expect(w.dim() == 2, "awqLinear: qweight must be [N, K / 8]");
    const int64_t n = w.size(0), k = w.size(1) * 8;
    expect(group > 0 && k % group == 0 && k % 32 == 0 && n % 8 == 0,
           "awqLinear: K must be a multiple of 32 and of the group size, N a multiple of 8");
    at::Tensor& s = tensor(scales);
    at::Tensor& z = tensor(zeros);
    expect_half(s, "awqLinear scales");
    expect_half(z, "awqLinear zeros");
    expect(s.dim() == 2 && s.size(0) == n && s.size(1) == k / group && z.sizes() == s.sizes(),
           "awqLinear: scales and zeros must be [N, K / group]");
    const void* b = optional_bias(bias, n, "awqLinear");
    const at::Tensor& xo = tensor(x);
    at::Tensor xs = activations(x, k, "awqLinear");
    const int m = static_cast<int>(xs.size(0));
    if (dequantizes(m)) {
      at::Tensor w16 = at::empty({n, k}, xs.options());
      barista::quant::awq_dequantize(w16.data_ptr(), reinterpret_cast<const uint32_t*>(w.data_ptr<int32_t>()),
                                     s.data_ptr(), z.data_ptr(), static_cast<int>(n), static_cast<int>(k), group,
                                     stream());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      return wrap(dequantized_linear(xo, xs, w16, bias));
    }
    at::Tensor y = output_like(xo, n);
    if (m > 0) {
      at::Tensor scratch;
      float* ws = workspace(scratch, m, static_cast<int>(n), static_cast<int>(k), xs);
      barista::quant::awq_linear(y.data_ptr(), xs.data_ptr(), reinterpret_cast<const uint32_t*>(w.data_ptr<int32_t>()),
                                 s.data_ptr(), z.data_ptr(), b, ws, m, static_cast<int>(n), static_cast<int>(k), group,
                                 stream());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
    return wrap(y);
  });
}

// x [..., K] fp16; weight [N, K] int8; scales [N, groups] fp16; bias [N] fp16 or 0.
BARISTA_QUANT_JNI(jlong, int8Linear)(JNIEnv* env, jclass, jlong x, jlong weight, jlong scales, jlong bias) {
  return guarded<jlong>(env, 0, [&] {
    at::Tensor& w = tensor(weight);
    expect(w.is_cuda() && w.is_contiguous() && w.scalar_type() == at::kChar && w.dim() == 2,
           "int8Linear: weight must be a contiguous CUDA int8 [N, K] tensor");
    const int64_t n = w.size(0), k = w.size(1);
    at::Tensor& s = tensor(scales);
    expect_half(s, "int8Linear scales");
    expect(s.dim() == 2 && s.size(0) == n, "int8Linear: scales must be [N, groups]");
    const int64_t groups = s.size(1);
    expect(k % 32 == 0 && n % 8 == 0 && groups > 0 && k % groups == 0 && (k / groups) % 8 == 0,
           "int8Linear: K must be a multiple of 32, N of 8, and each scale group a multiple of 8 inputs");
    const void* b = optional_bias(bias, n, "int8Linear");
    const at::Tensor& xo = tensor(x);
    at::Tensor xs = activations(x, k, "int8Linear");
    const int m = static_cast<int>(xs.size(0));
    if (dequantizes(m)) {
      at::Tensor w16 = at::empty({n, k}, xs.options());
      barista::quant::int8_dequantize(w16.data_ptr(), w.data_ptr<int8_t>(), s.data_ptr(), static_cast<int>(n),
                                      static_cast<int>(k), static_cast<int>(groups), stream());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      return wrap(dequantized_linear(xo, xs, w16, bias));
    }
    at::Tensor y = output_like(xo, n);
    if (m > 0) {
      at::Tensor scratch;
      float* ws = workspace(scratch, m, static_cast<int>(n), static_cast<int>(k), xs);
      barista::quant::int8_linear(y.data_ptr(), xs.data_ptr(), w.data_ptr<int8_t>(), s.data_ptr(), b, ws, m,
                                  static_cast<int>(n), static_cast<int>(k), static_cast<int>(groups), stream());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
    return wrap(y);
  });
}

// "gemv", "gemm" or "dequantize+cublas": the kernel that serves a call of this many rows.
BARISTA_QUANT_JNI(jstring, kernelFor)(JNIEnv* env, jclass, jint rows) {
  return env->NewStringUTF(barista::quant::kernel_for_rows(rows));
}

BARISTA_QUANT_JNI(jint, gemvMaxRows)(JNIEnv*, jclass) { return barista::quant::kGemvMaxRows; }

BARISTA_QUANT_JNI(jint, dequantMinRows)(JNIEnv*, jclass) { return barista::quant::dequant_min_rows(); }
